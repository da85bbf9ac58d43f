"""Read-side queries of the invoices: finance's pending checks and the risk rules (issue 12).

Every rule is one SQL expression annotated by `with_risks(queryset)`: the invoice page and
list show the flags from those annotations (a constant number of queries per page), and the
changelist filter "风险提示" filters on the same expressions, so a flag and its filter can
never disagree. The rules warn; none of them refuses anything by itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    ForeignObjectRel,
    Func,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Replace, TruncDate, TruncMonth
from django.db.models.sql.constants import INNER
from django.db.models.sql.datastructures import Join

from projects import permissions as perm
from projects.dates import format_date
from projects.models import ProjectHistory
from projects.models.money import Invoice, RiskKeyword
from projects.money import ZERO, format_cny, normalise_text

_MONEY = DecimalField(max_digits=14, decimal_places=2)
BEIJING = ZoneInfo("Asia/Shanghai")

# (key, title) of every rule, in the order shown; the filter offers one choice each.
RULES = (
    ("buyer", "抬头或税号不是本组织"),
    ("period", "开票日期不在项目实施期内"),
    ("before_approval", "开票日期早于立项批准"),
    ("after_settlement", "开票日期晚于申请结算"),
    ("split", "疑似拆分开票"),
    ("red", "红字发票或被冲销的发票"),
    ("keyword", "命中风险关键词"),
    ("over_line", "超出预算明细金额"),
    ("repeat", "同一销售方同金额多项目报销"),
)
RULE_TITLES = dict(RULES)


def buyer_matches(buyer_name: str, organization_name: str) -> bool:
    # 抬头: compare after normalising full-width/half-width brackets and spaces.
    return normalise_text(buyer_name) == normalise_text(organization_name)


def _fold(expression):
    """The 抬头 as compared in SQL: full-width brackets as half-width, no spaces."""
    for old, new in (("\uff08", "("), ("\uff09", ")"), (" ", ""), ("\u3000", ""), ("\t", "")):
        expression = Replace(expression, Value(old), Value(new))
    return expression


class _CompiledOnce(Subquery):
    """A rule's subquery whose SQL is compiled once per shape, not on every page.

    The rules' expressions are built once per process (`_risk_expressions`); compiling
    their 20 subqueries was nearly all of the 6 ms it took to compile an invoice page's
    query, every time, for the same text. A subquery's SQL depends only on the rule (a
    token its copies keep), the database, its own table aliases and the outer columns it
    names (their aliases change with the outer query's joins): those make the key, and its
    constants are the rule's own. tests/projects/test_invoice_risks.py compares the cached
    text with a fresh compilation for the list, the page, searches, filters and scopes."""

    _compiled: dict = {}
    _LIMIT = 512
    _tokens = iter(range(1 << 62))

    def __init__(self, queryset, output_field=None, **extra):
        super().__init__(queryset, output_field=output_field, **extra)
        self.rule = next(self._tokens)

    def as_sql(self, compiler, connection, template=None, **extra_context):
        try:
            key = (
                self.rule,
                connection.alias,
                template,
                tuple(sorted(extra_context.items())),
                tuple(self.query.alias_map),
                tuple((col.alias, col.target.column) for col in self.query.get_external_cols()),
            )
            hash(key)
        except (AttributeError, TypeError):  # an unhashable or unusual shape: no cache
            return super().as_sql(compiler, connection, template, **extra_context)
        compiled = self._compiled.get(key)
        if compiled is None:
            sql, params = super().as_sql(compiler, connection, template, **extra_context)
            if len(self._compiled) >= self._LIMIT:
                self._compiled.clear()
            compiled = self._compiled[key] = (sql, tuple(params))
        return compiled


def _event_day(transition: str):
    """The Beijing date of the project's first event `transition` (approve, request_settlement)."""
    return _CompiledOnce(
        ProjectHistory.objects.filter(project=OuterRef("project"), transition=transition)
        .order_by("global_seq")
        .annotate(day=TruncDate("created_at", tzinfo=BEIJING))
        .values("day")[:1],
        output_field=DateField(),
    )


def _neighbour(offset: int):
    """The pk of the same seller's invoice numbered `offset` away, in the organisation.

    A LIMIT 1 subquery rather than EXISTS: PostgreSQL may turn an EXISTS into one hashed
    scan of every invoice; this stays an index lookup on (series, serial) per shown row."""
    return _CompiledOnce(
        Invoice.objects.filter(
            series=OuterRef("series"),
            serial=OuterRef("serial") + offset,
            project__organization=OuterRef("project__organization"),
        )
        .exclude(series="")
        .order_by()
        .values("pk")[:1]
    )


def _keyword(field: str):
    items = Q(scope__in=[RiskKeyword.Scope.BOTH, RiskKeyword.Scope.ITEMS]) & Q(
        outer_items__contains=F("word")
    )
    seller = Q(scope__in=[RiskKeyword.Scope.BOTH, RiskKeyword.Scope.SELLER]) & Q(
        outer_seller__contains=F("word")
    )
    return _CompiledOnce(
        RiskKeyword.objects.filter(active=True)
        .annotate(
            outer_items=ExpressionWrapper(OuterRef("item_names"), output_field=TextField()),
            outer_seller=ExpressionWrapper(OuterRef("seller_name"), output_field=TextField()),
        )
        .filter(items | seller)
        .order_by("word")
        .values(field)[:1]
    )


def _line_running_total():
    """The budget line's invoiced total up to and including this invoice (by entry order).

    Blue invoices only: a red invoice (negative) never lowers it, so it cannot make room on
    a line for more blue invoices unflagged; its offset shows in the settlement sums."""
    return Coalesce(
        _CompiledOnce(
            Invoice.objects.filter(
                budget_line=OuterRef("budget_line"), pk__lte=OuterRef("pk"), total__gt=0
            )
            .order_by()
            .values("budget_line")
            .annotate(total=Sum("total"))
            .values("total"),
            output_field=_MONEY,
        ),
        ZERO,
        output_field=_MONEY,
    )


class NextMonth(Func):
    """The first day of the month after a date's month (a date): with TruncMonth, the
    bounds [month start, next month start) of the date's calendar month."""

    output_field = DateField()
    arity = 1

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="(DATE_TRUNC('month', %(expressions)s) + INTERVAL '1 month')::date",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="DATE(%(expressions)s, 'start of month', '+1 month')",
            **extra_context,
        )


def _same_purchase_elsewhere():
    """Invoices of another project of the same organisation with the outer invoice's seller
    and total, issued in the same calendar month.

    The month is a range of issue dates, [month start, next month start), not an equality
    on the truncated date: an index range on (seller_tax_id, total, issue_date) reads only
    that month's invoices of the seller and amount, not all of them over the years."""
    return (
        Invoice.objects.filter(
            seller_tax_id=OuterRef("seller_tax_id"),
            total=OuterRef("total"),
            issue_date__gte=OuterRef("risk_month"),
            issue_date__lt=OuterRef("risk_next_month"),
            project__organization=OuterRef("project__organization"),
        )
        .exclude(project=OuterRef("project"))
        .order_by()
    )


def _repeat_projects():
    """Other projects of the organisation with an invoice of the same seller and total in
    the same calendar month (the same purchase claimed twice, split across projects)."""
    return Coalesce(
        _CompiledOnce(
            _same_purchase_elsewhere()
            .values("seller_tax_id")
            .annotate(n=Count("project", distinct=True))
            .values("n")
        ),
        0,
    )


def _repeat_any():
    """Some other project of the organisation has the same seller and total this month (the
    filter's test: a LIMIT 1 lookup on (seller_tax_id, total), no counting)."""
    return _CompiledOnce(_same_purchase_elsewhere().values("pk")[:1])


def _red_by_link():
    """The number of a red invoice (anywhere: identities are unique system-wide) that names
    this invoice as the one it cancels. `cancels <> ''` lets it use the partial index of
    the few red invoices (`invoice_cancels`) instead of scanning every invoice per row."""
    return _CompiledOnce(
        Invoice.objects.filter(cancels=OuterRef("identity"))
        .exclude(cancels="")
        .order_by()
        .values("number")[:1]
    )


def _red_counterpart():
    """The number of an invoice of the same seller in the organisation whose total negates
    this one's (a red invoice and the blue one it cancels, named or not): an index lookup
    on (seller_tax_id, total)."""
    return _CompiledOnce(
        Invoice.objects.filter(
            seller_tax_id=OuterRef("seller_tax_id"),
            total=-OuterRef("total"),
            project__organization=OuterRef("project__organization"),
        )
        .exclude(pk=OuterRef("pk"))
        .order_by("pk")
        .values("number")[:1]
    )


def _flag(condition) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _unless_null(condition) -> Coalesce:
    """A comparison with a value that may be missing: false, not NULL, when it is."""
    return Coalesce(_flag(condition), Value(False), output_field=BooleanField())


def with_risks(queryset):
    """Annotate each invoice with every rule's flag (risk_<key>) and the values its reason
    names. Used by the list, the page and the filter alike."""
    if _plain_filter(queryset):
        # The rows' restrictions (scope, filters, ordering) put on the rules resolved once
        # per process, instead of resolving 13 subqueries on every page: the same rows and
        # columns (a joined table of the restrictions is joined again, by its primary key).
        combined = _risk_template() & queryset
        combined.query.select_related = queryset.query.select_related
        return combined
    return _annotate_risks(queryset)


def _annotate_risks(queryset):
    values, flags = _risk_expressions()
    # Values only a flag reads are aliases, not columns: a flag that names an annotation
    # repeats its expression in SQL, so a selected subquery would run twice per row.
    hidden = {name: values[name] for name in _FLAG_ONLY}
    shown = {name: value for name, value in values.items() if name not in _FLAG_ONLY}
    return (
        queryset.alias(risk_month=TruncMonth("issue_date"), risk_next_month=NextMonth("issue_date"))
        .alias(**hidden)
        .annotate(**shown)
        .annotate(**flags)
    )


# The rules' values that no reason names (the flags test them in SQL).
_FLAG_ONLY = ("risk_repeat_other", "risk_prev2", "risk_prev1", "risk_next1", "risk_next2")


@functools.cache
def _risk_template():
    return _annotate_risks(Invoice.objects.all())


def _plain_filter(queryset) -> bool:
    """Only filters and an ordering on the invoices: what `template & queryset` keeps."""
    query = queryset.query
    return (
        query.model is Invoice
        and type(queryset) is type(Invoice.objects.all())
        and not query.annotations
        and not query.is_sliced
        and not query.is_empty()
        and not query.distinct
        and not query.combinator
        and not query.extra
        and not query.extra_order_by
        and query.deferred_loading == (frozenset(), True)
        and queryset._fields is None
        and not queryset._prefetch_related_lookups
        and query.default_ordering
    )


@functools.cache
def _risk_expressions() -> tuple[dict, dict]:
    """The rules' expressions, built once per process: they name only the outer invoice's
    columns (OuterRef, F), and annotate() resolves a copy of them against each queryset.
    Building the 13 subqueries' inner querysets took about as long as compiling them, on
    every invoice page and on the project page's invoices."""
    values = dict(
        risk_approved_on=_event_day("approve"),
        risk_settlement_on=_event_day("request_settlement"),
        risk_keyword_word=_keyword("word"),
        risk_keyword_reason=_keyword("reason"),
        line_invoiced=_line_running_total(),
        risk_repeat_count=_repeat_projects(),
        risk_repeat_other=_repeat_any(),
        risk_prev2=_neighbour(-2),
        risk_prev1=_neighbour(-1),
        risk_next1=_neighbour(1),
        risk_next2=_neighbour(2),
        risk_red_by=_red_by_link(),
        risk_red_pair=_red_counterpart(),
        risk_buyer_folded=_fold(F("buyer_name")),
        risk_org_folded=_fold(F("project__organization__name")),
    )
    flags = dict(
        risk_buyer=_flag(
            ~Q(risk_buyer_folded=F("risk_org_folded"))
            | (
                ~Q(buyer_tax_id="")
                & ~Q(project__organization__uscc="")
                & ~Q(buyer_tax_id=F("project__organization__uscc"))
            )
        ),
        risk_period=_flag(
            Q(project__start_date__isnull=False, issue_date__lt=F("project__start_date"))
            | Q(project__end_date__isnull=False, issue_date__gt=F("project__end_date"))
        ),
        # Each subquery is written out wherever a flag names it: no day yet is a NULL
        # comparison, made false by COALESCE, instead of a second copy for IS NOT NULL.
        risk_before_approval=_unless_null(Q(issue_date__lt=F("risk_approved_on"))),
        risk_after_settlement=_unless_null(Q(issue_date__gt=F("risk_settlement_on"))),
        # Three consecutive numbers: (n-2, n-1), (n-1, n+1) or (n+1, n+2) exist; n-1 and
        # n+1 are each written once less than in the three pairs spelled out.
        risk_split=_flag(
            Q(serial__isnull=False)
            & (
                Q(risk_prev1__isnull=False)
                & (Q(risk_prev2__isnull=False) | Q(risk_next1__isnull=False))
                | Q(risk_next1__isnull=False, risk_next2__isnull=False)
            )
        ),
        risk_red=_flag(
            Q(total__lt=0) | Q(risk_red_by__isnull=False) | Q(risk_red_pair__isnull=False)
        ),
        risk_keyword=_flag(Q(risk_keyword_word__isnull=False)),
        risk_over_line=_flag(Q(line_invoiced__gt=F("budget_line__amount"))),
        risk_repeat=_flag(Q(risk_repeat_other__isnull=False)),
    )
    return values, flags


def risk_count(queryset) -> int:
    """The number of rows of a `with_risks` queryset, without paying for the rules' joins.

    The annotations join the project, its organisation and the budget line; a count drops
    the annotations but keeps those INNER joins, and PostgreSQL then joins every matching
    invoice (finance's 23,000 pending ones at city scale: ~100 ms instead of ~5 ms). A join
    along a non-null foreign key can neither drop nor repeat a row, so as a LEFT join it
    counts the same, and PostgreSQL removes a LEFT join to a primary key that nothing else
    reads. Joins that filters or searches need stay (their WHERE still reads them)."""
    counted = queryset.all()
    query = counted.query
    for alias, join in list(query.alias_map.items()):
        forward = isinstance(join, Join) and not isinstance(join.join_field, ForeignObjectRel)
        if forward and join.join_type == INNER and not join.nullable:
            query.alias_map[alias] = join.promote()
    return counted.count()


def with_line_totals(queryset):
    """Kept for callers of the first version: the risk annotations include the line total."""
    return with_risks(queryset)


def risk_filter(queryset, key: str):
    """Only the invoices that rule `key` flags (one SQL query; unknown keys change nothing)."""
    if key not in RULE_TITLES:
        return queryset
    if "risk_buyer" not in queryset.query.annotations:
        queryset = with_risks(queryset)
    return queryset.filter(**{f"risk_{key}": True})


def _red_reason(invoice) -> str:
    if invoice.total < 0:
        text = f"红字发票(负数金额,价税合计 {format_cny(invoice.total)})"
        if invoice.cancels:
            text += f",冲销蓝字发票 {invoice.cancels}"
        elif invoice.risk_red_pair:
            text += f",金额与同一销售方的发票 {invoice.risk_red_pair} 正好相反"
        return text + ";它冲减结算金额,请核对所冲销的发票及其报销情况。"
    other = invoice.risk_red_by or invoice.risk_red_pair
    return (
        f"本发票已被红字发票 {other} 冲销(或有同一销售方、金额正好相反的红字发票),"
        "被冲销的金额不应再报销。"
    )


@dataclass(frozen=True)
class Risk:
    key: str
    title: str
    reason: str

    def __str__(self) -> str:
        return f"{self.title}:{self.reason}"


def _reason(key: str, invoice) -> str:
    project = invoice.project
    if key == "buyer":
        org = project.organization
        if normalise_text(invoice.buyer_name) != normalise_text(org.name) and invoice.buyer_name:
            text = f"发票抬头为“{invoice.buyer_name}”,申报组织为“{org.name}”"
            if invoice.buyer_tax_id and org.uscc and invoice.buyer_tax_id != org.uscc:
                text += f";购买方税号 {invoice.buyer_tax_id} 也不是本组织的 {org.uscc}"
            return text + "。"
        return f"购买方纳税人识别号为 {invoice.buyer_tax_id},本组织统一社会信用代码为 {org.uscc}。"
    if key == "period":
        start = format_date(project.start_date) if project.start_date else "未填"
        end = format_date(project.end_date) if project.end_date else "未填"
        return f"开票日期 {format_date(invoice.issue_date)},项目实施期 {start} 至 {end}。"
    if key == "before_approval":
        return (
            f"开票日期 {format_date(invoice.issue_date)} 早于项目批准立项的日期 "
            f"{format_date(invoice.risk_approved_on)},支出可能发生在立项之前。"
        )
    if key == "after_settlement":
        return (
            f"开票日期 {format_date(invoice.issue_date)} 晚于申请结算的日期 "
            f"{format_date(invoice.risk_settlement_on)}。"
        )
    if key == "split":
        return (
            f"销售方“{invoice.seller_name}”在本组织有3张及以上号码连续的发票"
            f"(含 {invoice.number}),请核实是否为拆分开票。"
        )
    if key == "red":
        return _red_reason(invoice)
    if key == "keyword":
        why = f"({invoice.risk_keyword_reason})" if invoice.risk_keyword_reason else ""
        return f"货物名称或销售方含“{invoice.risk_keyword_word}”{why}。"
    if key == "over_line":
        line = invoice.budget_line
        return (
            f"计入本发票后,预算明细“{line.get_item_display()} {line.description}”已开票 "
            f"{format_cny(invoice.line_invoiced)},超过其预算金额 {format_cny(line.amount)}。"
        )
    return (
        f"同一销售方“{invoice.seller_name}”、同一金额 {format_cny(invoice.total)} 的发票,"
        f"本月还在本组织另外 {invoice.risk_repeat_count} 个项目中报销。"
    )


def invoice_risks(invoice: Invoice) -> list[Risk]:
    """The rules that flag `invoice`, each with its reason in Chinese. Pass a row from
    `with_risks(...)` (lists: no query per row); a plain invoice is re-read annotated."""
    if not hasattr(invoice, "risk_buyer"):
        invoice = (
            with_risks(Invoice.objects.filter(pk=invoice.pk))
            .select_related("project__organization", "budget_line")
            .get()
        )
    return [
        Risk(key, title, _reason(key, invoice))
        for key, title in RULES
        if getattr(invoice, f"risk_{key}")
    ]


def invoice_flags(invoice: Invoice, *, line_invoiced: Decimal | None = None) -> list[str]:
    """The flags as text, "rule:reason" (`line_invoiced` is ignored: kept for old callers)."""
    return [str(risk) for risk in invoice_risks(invoice)]


def pending_checks(user, limit: int = 20) -> list[dict]:
    """Projects with invoices waiting for `user`'s check (finance): count and total per
    project; not the projects whose payment the user approved (they may not check those)."""
    return list(
        Invoice.objects.filter(
            check_status=Invoice.CheckStatus.PENDING,
            project__state__in=perm.INVOICE_CHECK_STATES,
        )
        .exclude(project__payment_approved_by=user)
        .values("project_id", "project__code", "project__title")
        .annotate(count=Count("pk"), total=Sum("total"))
        .order_by("project__year", "project__number")[:limit]
    )
