"""Invoice import from an xlsx list in the column layout of a typical e-invoice platform
export (发票代码, 发票号码, 开票日期, 销售方名称, 销售方纳税人识别号, 购买方名称, 金额, 税额,
价税合计), plus 票据种类, 预算明细 and the optional 购买方纳税人识别号 (so the buyer-tax-ID risk
rule sees imported rows as it sees typed ones; files without that column still import).

The import service of the invoices (services/invoices.py holds the rules it applies).

All or nothing: every row is parsed and validated in memory, each bad row is reported with
its row number and reason, and nothing is stored if any row is bad. Stored duplicates are
found with one query per chunk on the normalised identities; the database's unique
constraint decides any race between two imports of the same invoice.

The page parses an upload once: `invoice_import_preview` validates it and keeps the
validated rows in the database (an ImportPreview of the user and project, with the file's
SHA-256, expiring); `invoice_import_confirm` stores those rows, re-checking under the
project lock only what can change meanwhile (the project's state and the user's
permission, the budget lines, invoices stored by someone else since the preview).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Count, Sum
from openpyxl import Workbook, load_workbook

from projects import permissions as perm
from projects.exchange.reader import sheet_values
from projects.exchange.writer import add_sheet, looks_like_formula
from projects.models import BudgetLine, ImportPreview, Project
from projects.models.money import Invoice
from projects.money import normalise_text, to_money
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.invoices import invoice_duplicates, invoice_validate
from projects.services.locking import locked_project
from projects.services.previews import preview_claim, preview_get, preview_save
from projects.uploads import check_ooxml_bounds

# Chinese header -> field; the first nine are the platform's export columns.
COLUMNS = {
    "发票代码": "code",
    "发票号码": "number",
    "开票日期": "issue_date",
    "销售方名称": "seller_name",
    "销售方纳税人识别号": "seller_tax_id",
    "购买方名称": "buyer_name",
    "金额": "amount",
    "税额": "tax",
    "价税合计": "total",
    "票据种类": "kind",
    "预算明细": "budget_line",
    "购买方纳税人识别号": "buyer_tax_id",
}
REQUIRED_COLUMNS = list(COLUMNS)[:9]
MAX_ROWS = 20000
BATCH = 1000


@dataclass
class ImportRow:
    row_number: int
    data: dict
    errors: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    suggestion: str = ""  # the budget line the item names point to (a zip's invoices)


@dataclass
class ImportResult:
    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    created: int = 0
    dry_run: bool = True
    unit: str = "行"  # "张" for the invoices of a zip
    token: str = ""  # the preview kept for the confirm step (invoice_import_preview)
    sha256: str = ""  # of the uploaded file

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.bad_rows and bool(self.rows)

    def messages(self) -> list[str]:
        lines = list(self.file_errors)
        lines += [f"第{row.row_number}{self.unit}:{'；'.join(row.errors)}" for row in self.bad_rows]
        return lines


# --- reading ------------------------------------------------------------------------------


def read_rows(source) -> tuple[list[ImportRow], list[str]]:
    """Rows of an xlsx file (path, bytes or file object); row numbers as Excel shows them.

    The zip's sizes and compression ratio are bounded before openpyxl parses anything, so a
    small file holding a huge shared string is refused without inflating it into memory."""
    if isinstance(source, bytes):
        source = BytesIO(source)
    try:
        check_ooxml_bounds(source)
    except ValidationError as exc:
        return [], exc.messages
    try:
        workbook = load_workbook(source, read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - BadZipFile, KeyError …: any unreadable upload
        return [], ["无法读取文件:请上传 Excel(.xlsx)格式的发票清单。"]
    try:
        return _sheet_rows(workbook)
    except Exception:  # noqa: BLE001 - a sheet whose XML breaks part-way (ParseError …)
        return [], ["无法读取文件:文件内容已损坏或不完整,请重新导出后再上传。"]
    finally:
        workbook.close()


def _sheet_rows(workbook) -> tuple[list[ImportRow], list[str]]:
    rows_iter = sheet_values(workbook.worksheets[0])
    first = next(rows_iter, None)
    header = first[1] if first is not None and first[0] == 1 else ()
    names = [normalise_text(h) if h is not None else "" for h in header]
    missing = [h for h in REQUIRED_COLUMNS if h not in names]
    if missing:
        return [], [f"缺少列:{'、'.join(missing)}(请使用下载的导入模板)。"]
    index = {COLUMNS[name]: i for i, name in enumerate(names) if name in COLUMNS}
    rows = []
    for number, values in rows_iter:
        if not any(v not in (None, "") for v in values):
            continue
        data = {key: values[i] if i < len(values) else None for key, i in index.items()}
        rows.append(ImportRow(row_number=number, data=data))
        if len(rows) > MAX_ROWS:
            return [], [f"一次最多导入 {MAX_ROWS} 行,请分批导入。"]
    if not rows:
        return [], ["文件中没有发票数据。"]
    return rows, []


def _rows_from(rows_or_file) -> tuple[list[ImportRow], list[str]]:
    if isinstance(rows_or_file, list):
        return [
            row if isinstance(row, ImportRow) else ImportRow(row_number=i, data=_by_field(row))
            for i, row in enumerate(rows_or_file, start=2)
        ], []
    return read_rows(rows_or_file)


def _by_field(row: dict) -> dict:
    """Accept either Chinese headers or field names as keys."""
    return {COLUMNS.get(key, key): value for key, value in row.items()}


def read_zip_rows(content: bytes, budget_line) -> tuple[list[ImportRow], list[str]]:
    """The invoices of the tax platform's zip (or a zip of XML files), each captured once by
    the one reader; every invoice goes on the budget line the user chose for the batch (the
    item names' suggestion is shown beside each, never applied)."""
    from projects.capture import read_invoices_with_items, suggest_budget_item
    from projects.models.choices import BudgetItem

    try:
        found = read_invoices_with_items(content, "发票.zip")
    except ValidationError as exc:
        return [], exc.messages
    if len(found) > MAX_ROWS:
        return [], [f"一次最多导入 {MAX_ROWS} 张发票,请分批导入。"]
    if budget_line is None:
        return [], ["请选择本批发票计入的预算明细。"]
    rows = []
    suggested_for: dict[tuple, str] = {}  # one seller's invoices list the same goods
    for number, (invoice, items) in enumerate(found, start=1):
        data = {name: invoice.get(name) for name in COLUMNS.values() if name in invoice}
        data.update(
            buyer_tax_id=invoice["buyer_tax_id"],
            budget_line=budget_line,
            item_names="\n".join(items),
        )
        row = ImportRow(row_number=number, data=data)
        row.data["capture_source"] = invoice["source"]
        key = tuple(items)
        if key not in suggested_for:
            suggested = suggest_budget_item(items)
            suggested_for[key] = BudgetItem(suggested).label if suggested else ""
        row.suggestion = suggested_for[key]
        # A 红字发票 is imported like a typed one (negative amounts, the blue invoice it
        # cancels): flagged by the risk rules, never refused for being red.
        row.data["cancels"] = invoice.get("cancels") or ""
        rows.append(row)
    return rows, []


# --- validating ---------------------------------------------------------------------------


def _line_resolver(lines: list[BudgetLine]):
    """预算明细 cell → line pk: its 序号 (1, 2 …), or a unique 科目 or 用途说明."""
    by_number = {str(i): line.pk for i, line in enumerate(lines, start=1)}
    by_text: dict[str, list[int]] = {}
    for line in lines:
        for key in {normalise_text(line.get_item_display()), normalise_text(line.description)}:
            by_text.setdefault(key, []).append(line.pk)

    def resolve(value):
        if value in (None, ""):
            return lines[0].pk if len(lines) == 1 else None
        if isinstance(value, BudgetLine):
            return value.pk
        text = normalise_text(value)
        if text.endswith(".0"):
            text = text[:-2]
        if text in by_number:
            return by_number[text]
        found = by_text.get(text, [])
        return found[0] if len(found) == 1 else -1

    return resolve


def _formula_cells(data: dict) -> bool:
    # Judged after the leading blanks: ' =1+1', '\r=1', '\u3000=1+1', '\xa0@SUM(A1)' too.
    return any(looks_like_formula(v) for v in data.values() if isinstance(v, str))


def validate_rows(project: Project, rows: list[ImportRow], *, actor) -> None:
    lines = list(BudgetLine.objects.filter(project=project).order_by("pk"))
    budget_lines = {line.pk: line for line in lines}
    resolve = _line_resolver(lines)
    first_seen: dict[str, int] = {}
    memo: dict = {}  # each distinct cell value is parsed once per batch
    for row in rows:
        if row.errors:
            continue
        if _formula_cells(row.data):
            row.errors.append("单元格含公式或以 = + - @ 开头的内容,不予接受。")
            continue
        data = dict(row.data)
        line = resolve(data.get("budget_line"))
        if line is None:
            row.errors.append("请填写预算明细(序号、科目或用途说明)。")
            continue
        if line == -1:
            row.errors.append(f"预算明细“{data.get('budget_line')}”在本项目中找不到或不唯一。")
            continue
        data["budget_line"] = line
        clean = invoice_validate(data, budget_lines=budget_lines, memo=memo)
        row.errors.extend(clean.errors)
        row.values = clean.values
        if not clean.errors:
            earlier = first_seen.setdefault(clean.identity, row.row_number)
            if earlier != row.row_number:
                row.errors.append(f"与第{earlier}行是同一张发票。")
    _mark_stored_duplicates(rows, actor=actor)


def _mark_stored_duplicates(rows: list[ImportRow], *, actor) -> None:
    candidates = [row for row in rows if row.values and not row.errors]
    for start in range(0, len(candidates), BATCH * 5):
        chunk = candidates[start : start + BATCH * 5]
        found = invoice_duplicates(
            identities={row.values["identity"] for row in chunk}, actor=actor
        )
        for row in chunk:
            if row.values["identity"] in found:
                row.errors.append(found[row.values["identity"]])


def _claimed(project: Project) -> dict:
    figures = Invoice.objects.filter(project=project).aggregate(
        count=Count("pk"), total=Sum("total")
    )
    # SQLite sums decimals with binary floats: quantise the (exact-cent) total for the record.
    return {"invoices": figures["count"], "invoiced": str(to_money(figures["total"]))}


def _forget(document) -> None:
    if document is not None and document.file.name:
        document.file.storage.delete(document.file.name)


# --- the service --------------------------------------------------------------------------


def _zip_content(source) -> bytes:
    if isinstance(source, bytes):
        return source
    source.seek(0)
    return source.read()


def invoice_import(
    *,
    project: Project,
    source,
    actor,
    dry_run: bool,
    filename: str = "",
    budget_line: BudgetLine | None = None,
) -> ImportResult:
    """Validate every row of `source` (an xlsx file, a list of row dicts, or — `filename`
    ending in .zip — the tax platform's zip with `budget_line` for all its invoices); unless
    dry_run, and only if every row is good, store them all with one signed event. A zip is
    kept unchanged as the original of all its invoices (its SHA-256 in the event)."""
    if not perm.may_enter_invoices(project, actor):
        raise WorkflowError(f"项目当前状态为“{project.get_state_display()}”或您无权导入发票。")
    original = None
    if filename.lower().endswith(".zip"):
        from projects.services.invoices import Original

        content = _zip_content(source)
        original = Original(name=filename, content=content, content_type="application/zip")
        if budget_line is not None and budget_line.project_id != project.pk:
            budget_line = None
        rows, file_errors = read_zip_rows(content, budget_line)
        result = ImportResult(rows=rows, file_errors=file_errors, dry_run=dry_run, unit="张")
    else:
        rows, file_errors = _rows_from(source)
        result = ImportResult(rows=rows, file_errors=file_errors, dry_run=dry_run)
    if file_errors:
        return result
    validate_rows(project, rows, actor=actor)
    if dry_run or not result.ok:
        return result
    return _store(project, result, actor=actor, original=original)


class _Refused(Exception):
    """Raised inside the locked transaction so that a refused confirm writes nothing."""

    def __init__(self, result: ImportResult):
        self.result = result


def _store(
    project: Project,
    result: ImportResult,
    *,
    actor,
    original=None,
    claim=None,
    recheck: bool = False,
    file_sha256: str = "",
) -> ImportResult:
    """Store the validated rows of `result` with one signed event, under the project lock.

    `claim` (a confirm) is called first under the lock and refuses a preview that is gone;
    `recheck` (a confirm) looks again at the budget lines, which can change after the
    preview; invoices stored by someone else meanwhile are found by the unique identity
    (one index probe per row inside the insert, no extra query) and named."""
    rows = result.rows
    document = None
    try:
        with locked_project(project) as locked:
            if not perm.may_enter_invoices(locked, actor):
                raise WorkflowError(
                    f"项目当前状态已变为“{locked.get_state_display()}”,不能导入发票。"
                )
            if claim is not None:
                claim()
            if recheck:
                _recheck(locked, result)
            before = _claimed(locked)
            if original is not None:
                from projects.services.invoices import original_store

                document = original_store(project=locked, actor=actor, original=original)
            Invoice.objects.bulk_create(
                [
                    Invoice(
                        project=locked,
                        created_by=actor,
                        scan=document,
                        capture_source=row.data.get("capture_source", "")[:20],
                        **row.values,
                    )
                    for row in rows
                ],
                batch_size=BATCH,
            )
            capture = {}
            if original is not None:
                capture = {
                    "capture_source": "zip",
                    "original_name": original.name,
                    "original_sha256": original.sha256,
                }
            elif file_sha256:
                capture = {"file_sha256": file_sha256}
            events.record(
                project=locked,
                actor=actor,
                action="invoice_import",
                subject=f"发票导入:{len(rows)}张",
                data={
                    "count": len(rows),
                    "total": str(sum((row.values["total"] for row in rows), start=Decimal(0))),
                    "identities": [row.values["identity"] for row in rows][:1000],
                    "before": before,
                    "after": _claimed(locked),
                    **capture,
                },
            )
    except _Refused as refused:
        _forget(document)
        return refused.result
    except IntegrityError:
        _forget(document)
        # Another import or entry claimed some of these invoices meanwhile: say which.
        for row in rows:
            row.errors.clear()
        _mark_stored_duplicates(rows, actor=actor)
        if not result.bad_rows:
            result.file_errors.append("导入时发生冲突(发票已被其他人同时报销),未导入任何发票。")
        return result
    except BaseException:
        _forget(document)
        raise
    result.created = len(rows)
    result.dry_run = False
    return result


def _recheck(locked: Project, result: ImportResult) -> None:
    """What may have changed since the preview besides the state; raises _Refused (nothing
    written). Invoices stored by someone else since the preview are refused by the unique
    identity when the rows are inserted, and then named (the IntegrityError branch)."""
    lines = set(BudgetLine.objects.filter(project=locked).values_list("pk", flat=True))
    for row in result.rows:
        if row.values["budget_line_id"] not in lines:
            row.errors.append("所选预算明细已不属于本项目(预览之后被修改),请重新上传文件。")
    if result.bad_rows:
        raise _Refused(result)


# --- preview and confirm (the page) -----------------------------------------------------

PREVIEW_GONE = "导入已完成或已过期,请重新上传文件。"


def invoice_import_preview(
    *,
    project: Project,
    content: bytes,
    actor,
    filename: str,
    budget_line: BudgetLine | None = None,
) -> ImportResult:
    """Parse and validate an upload once; when every row is good, keep the validated rows
    in the database for the confirm step (the result's token and the file's sha256 name
    it). A zip's bytes are kept too: they become the invoices' original."""
    is_zip = filename.lower().endswith(".zip")
    result = invoice_import(
        project=project,
        source=content if is_zip else BytesIO(content),
        actor=actor,
        dry_run=True,
        filename=filename,
        budget_line=budget_line,
    )
    if not result.ok:
        return result
    result.sha256 = hashlib.sha256(content).hexdigest()
    result.token = preview_save(
        kind=ImportPreview.Kind.INVOICES,
        user=actor,
        project=project,
        data=rows_pack(rows_freeze(result.rows), original=content if is_zip else b""),
        meta={"filename": filename[:200], "sha256": result.sha256, "unit": result.unit},
    )
    return result


def invoice_import_confirm(*, project: Project, token: str, sha256: str, actor) -> ImportResult:
    """Store the rows validated at the preview `token` (of this user and project, not
    expired, of the file with this SHA-256), once. Refused previews raise WorkflowError;
    rows that became bad meanwhile come back as the result's errors. Nothing is written
    unless everything is stored."""
    scope = {"kind": ImportPreview.Kind.INVOICES, "token": token, "user": actor, "project": project}
    entry = preview_get(**scope)
    if entry is None or not sha256 or entry.meta.get("sha256") != sha256:
        raise WorkflowError(PREVIEW_GONE)
    meta = entry.meta
    frozen, content = rows_unpack(bytes(entry.data))
    result = ImportResult(rows=rows_thaw(frozen), dry_run=False, unit=meta.get("unit", "行"))
    if not result.rows:
        raise WorkflowError(PREVIEW_GONE)
    original = None
    if meta.get("filename", "").lower().endswith(".zip"):
        from projects.services.invoices import Original

        original = Original(name=meta["filename"], content=content, content_type="application/zip")

    def claim():
        # Used once: a doubled confirm waits for this row's lock, then finds it gone.
        if not preview_claim(pk=entry.pk):
            raise WorkflowError(PREVIEW_GONE)

    return _store(
        project,
        result,
        actor=actor,
        original=original,
        claim=claim,
        recheck=True,
        file_sha256=meta["sha256"],
    )


def rows_pack(frozen: dict, *, original: bytes = b"") -> bytes:
    """The preview's bytes: the frozen rows as compressed JSON (a bytea is written and read
    several times faster than the same rows as jsonb), then the zip kept as the original."""
    packed = zlib.compress(json.dumps(frozen, separators=(",", ":")).encode(), 1)
    return len(packed).to_bytes(8, "big") + packed + original


def rows_unpack(data: bytes) -> tuple[dict | None, bytes]:
    """(frozen rows, original); (None, b"") for bytes that are not a packed preview."""
    size = int.from_bytes(data[:8], "big")
    try:
        frozen = json.loads(zlib.decompress(data[8 : 8 + size]))
    except (zlib.error, ValueError):
        return None, b""
    return frozen, data[8 + size :]


def rows_freeze(rows: list[ImportRow]) -> dict:
    """The validated rows as JSON: one list of field names and a list of values per row
    (dates ISO, amounts as exact strings, the budget line by its pk)."""
    names = sorted({name for row in rows for name in row.values})
    frozen = []
    for row in rows:
        values = row.values
        frozen.append(
            [
                row.row_number,
                row.suggestion,
                row.data.get("capture_source", ""),
                *(_jsonable(values.get(name)) for name in names),
            ]
        )
    return {"fields": names, "rows": frozen}


def _jsonable(value):
    if isinstance(value, BudgetLine):
        return value.pk
    if isinstance(value, (Decimal, datetime.date)):
        return str(value)
    return value


def _thawer(name: str):
    if name == "budget_line":
        return "budget_line_id", lambda value: value
    kind = Invoice._meta.get_field(name).get_internal_type()
    if kind == "DateField":
        return name, lambda value: None if value is None else datetime.date.fromisoformat(value)
    if kind == "DecimalField":
        return name, lambda value: None if value is None else Decimal(value)
    return name, lambda value: value


def rows_thaw(frozen) -> list[ImportRow]:
    if not isinstance(frozen, dict):
        return []
    thawers = [_thawer(name) for name in frozen.get("fields", [])]
    rows = []
    for number, suggestion, source, *cells in frozen.get("rows", []):
        values = {key: thaw(cell) for (key, thaw), cell in zip(thawers, cells, strict=True)}
        data = {"capture_source": source} if source else {}
        rows.append(ImportRow(row_number=number, data=data, values=values, suggestion=suggestion))
    return rows


# --- the template -------------------------------------------------------------------------


def invoice_import_template(*, project: Project) -> Workbook:
    """The header row, one example, and a sheet listing the project's budget lines."""
    workbook = Workbook()
    today = datetime.date.today()
    add_sheet(
        workbook,
        "发票清单",
        list(COLUMNS),
        [
            [
                "3100231130",
                "12345678",
                today,
                "示例文化用品有限公司",
                "91350100M000100Y43",
                project.organization.name,
                "1000.00",
                "130.00",
                "1130.00",
                Invoice.Kind.VAT_ORDINARY.label,
                1,
                project.organization.uscc,
            ]
        ],
        first=True,
    )
    lines = BudgetLine.objects.filter(project=project).order_by("pk")
    add_sheet(
        workbook,
        "预算明细",
        ["序号", "预算科目", "用途说明", "预算金额"],
        [
            [i, line.get_item_display(), line.description, line.amount]
            for i, line in enumerate(lines, start=1)
        ],
    )
    add_sheet(
        workbook,
        "填写说明",
        ["说明"],
        [
            ["第一行为示例,导入前请删除。"],
            ["票据种类:" + "、".join(Invoice.Kind.labels) + ";留空按增值税普通发票处理。"],
            ["增值税发票:发票代码10位或12位数字,发票号码8位数字;数电发票:代码留空,号码20位。"],
            ["金额 + 税额 须等于 价税合计;金额最多两位小数。"],
            ["购买方纳税人识别号:发票上购买方的统一社会信用代码,可留空;与本组织不符时提示财政科。"],
            ["预算明细:填写“预算明细”工作表中的序号,或唯一的预算科目/用途说明。"],
            ["任何一行有误时整批都不会导入,请按提示的行号修改后重新上传。"],
        ],
    )
    return workbook
