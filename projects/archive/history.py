"""The project's history for the archive package, twice: as readable Chinese (labels of the
steps and states, Beijing times, amounts in ¥, never step names or Python dicts) and as data
(JSON of every event with its chain digest, enough to recompute the HMAC with the key)."""

import json
from decimal import Decimal, InvalidOperation

from projects.dates import format_date, format_datetime, format_month
from projects.models import (
    CHECKLIST,
    AcceptanceConclusion,
    ChangeRequest,
    Document,
    Grade,
    Invoice,
    Project,
    ProjectHistory,
    State,
)
from projects.money import format_cny

HISTORY_FORMAT = "urn:dangfei:archive-history:1"

# Events that projects.services.archive.EVENT_LABELS (the one table of event labels) does
# not name: the package's own event and the system's policy events.
ACTION_LABELS = {
    "archive_package": "生成档案包",
    "policy_create": "设定年度政策",
    "policy_update": "修改年度政策",
}

KEY_LABELS = {
    "code": "项目编号",
    "title": "项目名称",
    "changed": "修改的内容",
    "requested_amount": "申请金额",
    "approved_amount": "核定金额",
    "committed_amount": "占用额度",
    "payable_limit": "批准拨付限额",
    "settlement_amount": "结算金额",
    "loss_amount": "核减金额",
    "first_review_deadline": "初审期限",
    "grade": "核定等级",
    "state": "状态",
    "conclusion": "验收结论",
    "is_commended": "优秀项目",
    "released": "释放占用额度",
    "change_request": "变更申请编号",
    "kind": "类别",
    "before": "原内容",
    "after": "新内容",
    "content": "活动内容",
    "start_date": "开始日期",
    "end_date": "结束日期",
    "leader": "项目负责人",
    "invoice": "发票记录编号",
    "check_status": "审核状态",
    "actual_amounts": "实际支出",
    "voucher_number": "凭证号",
    "amount": "金额",
    "tax": "税额",
    "total": "价税合计",
    "reverses": "冲销的凭证",
    "count": "张数",
    "identities": "发票标识",
    "budget_line_id": "预算明细",
    "disbursed": "已拨付",
    "invoiced": "发票合计",
    "qualified": "合格发票合计",
    "sha256": "SHA-256",
    "sm3": "SM3",
    "size": "字节数",
    "version": "版本",
    "files": "文件数",
    "archival_code": "档号",
    "retention": "保管期限",
    "summary_report": "总结报告编号",
    "created": "首次填写",
    "document": "附件编号",
    "name": "文件名",
    "reason": "理由",
    "progress_report": "进展报告编号",
    "problem_report": "问题上报编号",
    "read_by": "阅知人",
    "forwarded": "已转报",
}
MONEY_KEYS = {
    "requested_amount",
    "approved_amount",
    "committed_amount",
    "payable_limit",
    "settlement_amount",
    "loss_amount",
    "amount",
    "tax",
    "total",
    "disbursed",
    "invoiced",
    "qualified",
    "new_amount",
}
DATE_KEYS = {"first_review_deadline", "issue_date", "start_date", "end_date", "voucher_date"}
CHOICES = {
    "state": dict(State.choices),
    "check_status": dict(Invoice.CheckStatus.choices),
    "conclusion": dict(AcceptanceConclusion.choices),
    "grade": {str(k): v for k, v in Grade.choices},
    "status": dict(ChangeRequest.Status.choices),
}
KINDS = {
    **dict(Invoice.Kind.choices),
    **dict(ChangeRequest.Kind.choices),
    **dict(Document.Kind.choices),
}
CHECK_LABELS = dict(CHECKLIST)
# Inside an invoice's values, code and number are the invoice's own.
INVOICE_LABELS = {"code": "发票代码", "number": "发票号码", "kind": "票据种类"}


def action_label(name: str) -> str:
    """The step's label (transition_label) or the event's; never the bare action name."""
    from projects.services.archive import event_label

    label = event_label(name)
    return ACTION_LABELS.get(name, "其他记录") if label == name else label


def _field_label(key: str) -> str:
    from projects.services.archive import VALUE_LABELS
    from projects.services.summaries import SUMMARY_FIELDS

    for table in (KEY_LABELS, CHECK_LABELS, VALUE_LABELS, dict(SUMMARY_FIELDS)):
        if key in table:
            return table[key]
    for model in (Project, Invoice):
        try:
            return str(model._meta.get_field(key).verbose_name)
        except Exception:  # noqa: BLE001 - not a field of this model
            continue
    return "其他内容"


class _Reader:
    """Turns an event's data into Chinese, knowing the project's budget lines by id."""

    def __init__(self, project: Project):
        self.invoice = False
        from accounts.models import User

        readers = project.progress_reports.exclude(read_by=None).values_list("read_by", flat=True)
        self.people = {str(u.pk): u.display_name for u in User.objects.filter(pk__in=list(readers))}
        self.lines = {
            str(line.pk): f"{line.get_item_display()}“{line.description}”"
            for line in project.budget_lines.all()
        }

    def value(self, key: str, value) -> str:
        if value is None or value == "":
            return "(空)"
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, list):
            if key == "changed":
                return "、".join(_field_label(str(v)) for v in value) or "(无)"
            return "、".join(self.value(key, v) for v in value) or "(无)"
        if isinstance(value, dict):
            if not value:
                return "(无)"
            if set(value) <= {"before", "after"}:
                before, after = value.get("before"), value.get("after")
                return f"{self.value(key, before)} → {self.value(key, after)}"
            return self.pairs(value, parent=key)
        text = str(value)
        if key in MONEY_KEYS:
            try:
                return format_cny(Decimal(text))
            except (InvalidOperation, ValueError):
                return text
        if key == "month":
            try:
                import datetime

                return format_month(datetime.date.fromisoformat(text[:10]))
            except ValueError:
                return text
        if key in DATE_KEYS:
            try:
                import datetime

                return format_date(datetime.date.fromisoformat(text[:10]))
            except ValueError:
                return text
        if key in CHOICES:
            return CHOICES[key].get(text, text)
        if key == "kind":
            return KINDS.get(text, text)
        if key == "budget_line_id":
            return self.lines.get(text, f"第{text}号")
        if key == "read_by":
            return self.people.get(text, f"用户{text}")
        return text

    def pairs(self, data: dict, *, parent: str = "") -> str:
        parts = []
        for key, item in data.items():
            if key == "before" and not item:
                continue  # nothing before (a first entry): only what it recorded
            if parent == "actual_amounts" or (
                parent in ("before", "after") and str(key) in self.lines
            ):
                label = self.lines.get(str(key), f"预算明细第{key}号")
                parts.append(f"{label}:{self.value('amount', item)}")
            else:
                label = (self.invoice and INVOICE_LABELS.get(key)) or _field_label(key)
                parts.append(f"{label}:{self.value(key, item)}")
        return ";".join(parts)


def history_rows(project: Project) -> list[ProjectHistory]:
    """The history as the project was closed: the package's own events come after it and
    cannot be inside it (a rebuild must give the same bytes)."""
    rows = ProjectHistory.objects.filter(project=project).exclude(transition="archive_package")
    return list(rows.order_by("seq"))


def _state(value: str) -> str:
    return State(value).label if value in State.values else "—"


def history_text(project: Project, rows: list[ProjectHistory]) -> str:
    reader = _Reader(project)
    lines = [
        f"项目历史 · {project.code} {project.title}",
        f"共 {len(rows)} 条记录(第 1 条至第 {len(rows)} 条),时间为北京时间。",
        "每条记录的校验值是历史链的带密钥摘要(HMAC-SHA256),与本系统的项目历史逐条对应。",
        "",
    ]
    for row in rows:
        sign = row.actor_name
        extra = "、".join(x for x in (row.actor_organization, row.actor_title) if x)
        if extra or row.actor_roles:
            sign += f"({extra}{',' if extra and row.actor_roles else ''}{row.actor_roles})"
        lines.append(
            f"第 {row.seq} 条  {format_datetime(row.created_at)}  {action_label(row.transition)}"
        )
        lines.append(f"  状态:{_state(row.from_state)} → {_state(row.to_state)}")
        lines.append(f"  签署:{sign}")
        if row.subject:
            lines.append(f"  对象:{row.subject}")
        if row.opinion:
            lines.append(f"  意见:{row.opinion}")
        data = {k: v for k, v in (row.data or {}).items() if k != "snapshot"}
        reader.invoice = "invoice" in data or row.transition.startswith("invoice")
        if data:
            lines.append(f"  内容:{reader.pairs(data)}")
        snapshot = (row.data or {}).get("snapshot")
        reader.invoice = False
        if snapshot:
            lines.append(f"  记录后:{reader.pairs(snapshot)}")
        lines.append(f"  校验值:{row.digest}")
        lines.append("")
    return "\n".join(lines)


def history_json(project: Project, rows: list[ProjectHistory]) -> bytes:
    events = [
        {
            "global_seq": row.global_seq,
            "seq": row.seq,
            "action": row.transition,
            "action_label": action_label(row.transition),
            "subject": row.subject,
            "from_state": row.from_state,
            "from_state_label": _state(row.from_state),
            "to_state": row.to_state,
            "to_state_label": _state(row.to_state),
            "actor": row.actor_id,
            "actor_name": row.actor_name,
            "actor_organization": row.actor_organization,
            "actor_title": row.actor_title,
            "actor_roles": row.actor_roles,
            "opinion": row.opinion,
            "data": row.data,
            "at": row.created_at.isoformat(timespec="microseconds"),
            "at_beijing": format_datetime(row.created_at),
            "key_id": row.key_id,
            "prev_digest": row.prev_digest,
            "digest": row.digest,
        }
        for row in rows
    ]
    document = {
        "format": HISTORY_FORMAT,
        "project": {"code": project.code, "title": project.title},
        "count": len(events),
        "events": events,
    }
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1, default=str)
    return (text + "\n").encode("utf-8")
