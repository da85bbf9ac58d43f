"""The one writer of the event log, its checkpoints and its verification.

Every write of state or money calls `record(...)` inside the transaction that made it (the
caller holds the project's row lock, see locking.py). Each event is signed with the actor's
name, organisation, title and roles (DA/T 95), carries what was decided (before → after) and
a snapshot of the project's state and money after the write, and is chained to the previous
event of the whole system by a keyed hash (HMAC). The key lives outside the database
(HISTORY_HMAC_KEY, with an id so it can be rotated), so write access to the database alone
cannot rewrite a row and recompute the chain; a checkpoint kept outside the database
(`history_checkpoint`) also catches rows removed from the end.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.roles import role_labels
from projects.models import Disbursement, HistoryHead, Invoice, Project, ProjectHistory
from projects.money import to_money
from projects.services import figures, money_figures

# What an event remembers of its project after the write; verify_history compares the
# project's row with the last event's snapshot, so a money field edited in the database
# behind the application's back is found.
SNAPSHOT_FIELDS = (
    "state",
    "grade",
    "requested_amount",
    "approved_amount",
    "committed_amount",
    "payable_limit",
    "settlement_amount",
    "loss_amount",
)
SNAPSHOT_SUMS = ("disbursed", "invoiced", "qualified")


# --- signing ---------------------------------------------------------------------------


def signature(actor) -> dict[str, str]:
    """The approval record of DA/T 95: name, organisation, title and role of the signer."""
    return {
        "name": actor.display_name,
        "organization": str(actor.organization) if actor.organization_id else "",
        "title": actor.title,
        "roles": "、".join(role_labels(actor)) or ("系统管理员" if actor.is_superuser else ""),
    }


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if hasattr(value, "pk"):
            out[key] = value.pk
        elif isinstance(value, datetime.date | datetime.datetime):
            out[key] = value.isoformat()
        elif isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, dict):
            out[key] = jsonable(value)
        elif value is None or isinstance(value, bool | int | str | list):
            out[key] = value
        else:
            out[key] = str(value)
    return out


def _money_text(value) -> str | None:
    return None if value is None else str(to_money(value))


def _sums_by_project(project_ids) -> dict[int, dict[str, str]]:
    sums: dict[int, dict[str, str]] = {
        pk: {name: "0.00" for name in SNAPSHOT_SUMS} for pk in project_ids
    }
    paid = (
        Disbursement.objects.filter(project_id__in=project_ids)
        .values("project_id")
        .annotate(sum_paid=Sum("amount"))
    )
    for row in paid:
        sums[row["project_id"]]["disbursed"] = _money_text(row["sum_paid"] or 0)
    invoiced = (
        Invoice.objects.filter(project_id__in=project_ids)
        .values("project_id")
        .annotate(
            sum_all=Sum("total"),
            sum_qualified=Sum("total", filter=Q(check_status=Invoice.CheckStatus.QUALIFIED)),
        )
    )
    for row in invoiced:
        sums[row["project_id"]]["invoiced"] = _money_text(row["sum_all"] or 0)
        sums[row["project_id"]]["qualified"] = _money_text(row["sum_qualified"] or 0)
    return sums


def _fields_snapshot(project: Project) -> dict[str, Any]:
    snap: dict[str, Any] = {"state": project.state, "grade": project.grade}
    for name in SNAPSHOT_FIELDS[2:]:
        snap[name] = _money_text(getattr(project, name))
    return snap


def snapshot(project: Project) -> dict[str, Any]:
    return {**_fields_snapshot(project), **_sums_by_project([project.pk])[project.pk]}


# --- keys and digests ------------------------------------------------------------------


class UnknownKey(Exception):
    pass


def key_for(key_id: str) -> bytes:
    if key_id == settings.HISTORY_HMAC_KEY_ID:
        return settings.HISTORY_HMAC_KEY.encode()
    old = settings.HISTORY_HMAC_OLD_KEYS.get(key_id)
    if old is None:
        raise UnknownKey(key_id)
    return old.encode()


def _canonical(row: ProjectHistory) -> bytes:
    content = {
        "global_seq": row.global_seq,
        "project": row.project_id,
        "seq": row.seq,
        "transition": row.transition,
        "subject": row.subject,
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor_id,
        "actor_name": row.actor_name,
        "actor_organization": row.actor_organization,
        "actor_title": row.actor_title,
        "actor_roles": row.actor_roles,
        "opinion": row.opinion,
        "data": row.data,
        "at": row.created_at.isoformat(timespec="microseconds"),
        "key_id": row.key_id,
        "prev": row.prev_digest,
    }
    return json.dumps(content, ensure_ascii=False, sort_keys=True, default=str).encode()


def compute_digest(row: ProjectHistory) -> str:
    return hmac.new(key_for(row.key_id), _canonical(row), hashlib.sha256).hexdigest()


# --- the writer ------------------------------------------------------------------------


def _locked_head() -> HistoryHead:
    head = HistoryHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        HistoryHead.objects.bulk_create([HistoryHead(pk=1)], ignore_conflicts=True)
        head = HistoryHead.objects.select_for_update().get(pk=1)
    return head


def record(
    *,
    actor,
    action: str,
    project: Project | None = None,
    opinion: str = "",
    data: dict[str, Any] | None = None,
    from_state: str | None = None,
    subject: str = "",
) -> ProjectHistory:
    """Append one signed, chained event. Call it inside the transaction of the write, with
    the project locked (locking.locked_project), after the write itself."""
    seq = None
    to_state = ""
    content = jsonable(data or {})
    last = None
    if project is not None:
        last = (
            ProjectHistory.objects.filter(project=project)
            .order_by("-seq")
            .values("seq", "to_state", "created_at")
            .first()
        )
        seq = (last or {"seq": 0})["seq"] + 1
        to_state = project.state
        content["snapshot"] = snapshot(project)
    sign = signature(actor)
    # The head is locked last (after the project and the pool): every writer serialises here.
    head = _locked_head()
    row = ProjectHistory(
        global_seq=head.global_seq + 1,
        project=project,
        seq=seq,
        transition=action,
        subject=subject,
        from_state=to_state if from_state is None else from_state,
        to_state=to_state,
        actor=actor,
        actor_name=sign["name"],
        actor_organization=sign["organization"],
        actor_title=sign["title"],
        actor_roles=sign["roles"],
        opinion=(opinion or "").strip(),
        data=content,
        created_at=timezone.now(),
        key_id=settings.HISTORY_HMAC_KEY_ID,
        prev_digest=head.digest,
    )
    row.digest = compute_digest(row)
    row.save(force_insert=True)
    head.global_seq, head.digest = row.global_seq, row.digest
    head.save(update_fields=["global_seq", "digest"])
    if project is not None:
        _add_to_figures(project, last, row)
        money_figures.apply(project, Decimal(content["snapshot"]["disbursed"]))
    return row


def _add_to_figures(project, last, row) -> None:
    """The statistics' yearly figures, in the event's own transaction (services.figures)."""
    deadline = None
    if row.transition in figures.FIRST_REVIEW_DECISIONS:
        submission = (
            ProjectHistory.objects.filter(project=project, transition="submit", seq__lt=row.seq)
            .order_by("-seq")
            .values_list("created_at", "data__first_review_deadline")
            .first()
        )
        if submission is not None:
            deadline = figures.submission_deadline(*submission)
    previous = (last["to_state"], last["created_at"]) if last else None
    figures.add(project, figures.increments(previous, row.transition, row.created_at, deadline))


# --- checkpoints and verification ------------------------------------------------------


def checkpoint() -> dict[str, Any]:
    """The chain's head, to be kept outside the database (printed, mailed, stored)."""
    last = ProjectHistory.objects.order_by("-global_seq").values("global_seq", "digest").first()
    return {
        "global_seq": last["global_seq"] if last else 0,
        "digest": last["digest"] if last else "",
        "row_count": ProjectHistory.objects.count(),
        "created_at": timezone.localtime().isoformat(timespec="seconds"),
        "key_id": settings.HISTORY_HMAC_KEY_ID,
    }


@dataclass
class Break:
    problem: str
    global_seq: int | None = None
    project: str = ""
    seq: int | None = None

    def __str__(self) -> str:
        where = []
        if self.global_seq is not None:
            where.append(f"第 {self.global_seq} 条记录")
        if self.project:
            where.append(f"项目 {self.project}" + (f" 第 {self.seq} 条" if self.seq else ""))
        return f"{'(' + ','.join(where) + ')' if where else ''}{self.problem}"


@dataclass
class Verification:
    rows: int
    projects: int
    breaks: list[Break]

    @property
    def ok(self) -> bool:
        return not self.breaks


def _codes() -> dict[int, str]:
    return dict(Project.objects.values_list("pk", "code"))


def verify(checkpoint: dict[str, Any] | None = None) -> Verification:
    """Walk the whole chain; compare each project with its last event; check a checkpoint."""
    codes = _codes()
    breaks: list[Break] = []
    prev: str | None = ""
    expected = 1
    rows = 0
    seq_of: dict[int, int] = {}
    last_of: dict[int, tuple[str, dict | None]] = {}
    at_checkpoint: tuple[int, str] | None = None
    cp_seq = int(checkpoint["global_seq"]) if checkpoint else 0
    rows_to_checkpoint = 0
    for row in ProjectHistory.objects.order_by("global_seq").iterator(chunk_size=2000):
        rows += 1
        code = codes.get(row.project_id, "")
        if row.global_seq != expected:
            gap = (
                f"第 {expected} 条"
                if row.global_seq == expected + 1
                else f"第 {expected} 至 {row.global_seq - 1} 条"
            )
            breaks.append(Break(f"之前的{gap}记录缺失(被删除)", row.global_seq, code, row.seq))
        elif prev is not None and row.prev_digest != prev:
            breaks.append(
                Break("与上一条记录的链接不符:上一条被改动、删除或顺序被调换", row.global_seq)
            )
        try:
            if not hmac.compare_digest(row.digest, compute_digest(row)):
                breaks.append(Break("内容与签名不符,记录被改动", row.global_seq, code, row.seq))
        except UnknownKey:
            breaks.append(Break(f"签名密钥“{row.key_id}”未配置,无法核验", row.global_seq))
        if row.project_id is not None:
            before = seq_of.get(row.project_id, 0)
            if row.seq != before + 1:
                breaks.append(
                    Break(
                        f"项目内序号不连续:第 {before + 1} 条缺失或顺序被改动",
                        row.global_seq,
                        code,
                        row.seq,
                    )
                )
            seq_of[row.project_id] = row.seq or 0
            last_of[row.project_id] = (row.to_state, (row.data or {}).get("snapshot"))
        if row.global_seq <= cp_seq:
            rows_to_checkpoint += 1
            if row.global_seq == cp_seq:
                at_checkpoint = (row.global_seq, row.digest)
        prev = row.digest
        expected = row.global_seq + 1
    last_seq = expected - 1
    head = HistoryHead.objects.filter(pk=1).first()
    if head is not None and (head.global_seq, head.digest) != (last_seq, prev or ""):
        breaks.append(
            Break(
                f"链头记录到第 {head.global_seq} 条,而现存记录只到第 {last_seq} 条:"
                "末尾的记录被删除或链头被改动",
                head.global_seq,
            )
        )
    if checkpoint:
        breaks.extend(_checkpoint_breaks(checkpoint, at_checkpoint, rows_to_checkpoint))
    breaks.extend(_project_breaks(codes, last_of))
    return Verification(rows=rows, projects=len(codes), breaks=breaks)


def _checkpoint_breaks(checkpoint, at_checkpoint, rows_to_checkpoint) -> list[Break]:
    cp_seq, cp_digest = int(checkpoint["global_seq"]), checkpoint["digest"]
    if cp_seq == 0:
        return []
    if at_checkpoint is None:
        return [Break("检查点记录的这条记录已不存在:末尾的记录被删除", cp_seq)]
    found = []
    if not hmac.compare_digest(at_checkpoint[1], cp_digest):
        found.append(Break("与检查点的摘要不符:检查点之前的记录被改动、删除或调换顺序", cp_seq))
    if rows_to_checkpoint != int(checkpoint.get("row_count", cp_seq)):
        found.append(
            Break(
                f"检查点时共有 {checkpoint.get('row_count')} 条记录,"
                f"现在到该处只有 {rows_to_checkpoint} 条:记录被删除",
                cp_seq,
            )
        )
    return found


def _project_breaks(codes: dict[int, str], last_of) -> list[Break]:
    found = []
    ids = sorted(codes)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        sums = _sums_by_project(chunk)
        for project in Project.objects.filter(pk__in=chunk).only("pk", *SNAPSHOT_FIELDS):
            last = last_of.get(project.pk)
            if last is None:
                # Only a draft made outside project_create (an old or a test row) has none;
                # a deleted history also breaks the chain itself (a gap, or the head).
                if project.state != "draft":
                    found.append(
                        Break(
                            f"项目状态为“{project.state}”,却没有任何历史记录:历史被删除",
                            project=project.code,
                        )
                    )
                continue
            to_state, snap = last
            if snap is None:
                if to_state != project.state:
                    found.append(
                        Break(
                            f"最后一条记录的状态({to_state})与项目当前状态({project.state})"
                            "不符:末尾记录被删除或状态被改动",
                            project=project.code,
                        )
                    )
                continue
            current = {**_fields_snapshot(project), **sums[project.pk]}
            for name, value in current.items():
                if snap.get(name) != value:
                    found.append(
                        Break(
                            f"“{FIELD_LABELS.get(name, name)}”现为 {value},"
                            f"而最后一条记录为 {snap.get(name)}:被绕过系统改动或记录被删除",
                            project=project.code,
                        )
                    )
    return found


FIELD_LABELS = {
    "state": "状态",
    "grade": "核定等级",
    "requested_amount": "申请金额",
    "approved_amount": "核定金额",
    "committed_amount": "占用额度",
    "payable_limit": "批准拨付限额",
    "settlement_amount": "结算金额",
    "loss_amount": "票据不合格损失",
    "disbursed": "已拨付合计",
    "invoiced": "发票合计",
    "qualified": "合格发票合计",
}
