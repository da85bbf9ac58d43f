"""The year's money figures (models.figures.MoneyFigure): what one event changes in them,
and the same rule run over every project from scratch.

A project contributes to four figures of its year and organisation: the total (dimension
"all") and those of its grade, category and state. Its contribution is the statistics' and
the pool ledger's own definitions (selectors.statistics._table, selectors.ledgers
._PROJECT_SUMS): one project; its requested, approved, committed, settlement and loss
amounts (none = 0); the sum of its payments (red reversals included, as negative rows);
released by settlement = approved − committed once settled and not terminated; released by
termination = approved once terminated. Each project's current contribution is kept
(ProjectFigure), so an event takes the old one out and adds the new one, to the figures
whose key or sums changed.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, Sum

from projects.models.figures import ALL, CATEGORY, GRADE, MONEY_SUMS, STATE
from projects.money import ZERO, to_money

KEY_FIELDS = ("year", "organization_id", "grade", "category", "state")
PROJECT_FIELDS = (
    "year",
    "organization_id",
    "grade",
    "category",
    "state",
    "requested_amount",
    "approved_amount",
    "committed_amount",
    "settlement_amount",
    "loss_amount",
)
TERMINATED = "terminated"


def grade_value(grade) -> str:
    return "" if grade is None else str(grade)


def contribution(values, disbursed) -> dict:
    """A project's contribution from its PROJECT_FIELDS values (a tuple in that order)."""
    year, org, grade, category, state, requested, approved, committed, settled, loss = values
    approved_ = to_money(approved or ZERO)
    committed_ = to_money(committed or ZERO)
    terminated = state == TERMINATED
    return {
        "year": year,
        "organization_id": org,
        "grade": grade_value(grade),
        "category": category or "",
        "state": state,
        "requested": to_money(requested or ZERO),
        "approved": approved_,
        "committed": committed_,
        "settled": to_money(settled or ZERO),
        "loss": to_money(loss or ZERO),
        "disbursed": to_money(disbursed or ZERO),
        "released_by_settlement": (
            approved_ - committed_ if settled is not None and not terminated else ZERO
        ),
        "released_by_termination": approved_ if terminated else ZERO,
    }


def keys(part: dict) -> list[tuple]:
    """The figures a contribution belongs to: (year, organisation, dimension, value), the
    four of its organisation and the same four of the whole district (organisation None)."""
    year = part["year"]
    return [
        (year, org, dimension, value)
        for org in (part["organization_id"], None)
        for dimension, value in (
            (ALL, ""),
            (GRADE, part["grade"]),
            (CATEGORY, part["category"]),
            (STATE, part["state"]),
        )
    ]


def _add(changes: dict, part: dict, sign: int) -> None:
    for key in keys(part):
        delta = changes[key]
        delta[0] += sign
        for i, name in enumerate(MONEY_SUMS, start=1):
            delta[i] += sign * part[name]


def _deltas(old: dict | None, new: dict) -> dict[tuple, list]:
    changes: dict[tuple, list] = defaultdict(lambda: [0, *(ZERO for _ in MONEY_SUMS)])
    if old is not None:
        _add(changes, old, -1)
    _add(changes, new, 1)
    return {key: delta for key, delta in changes.items() if any(delta)}


def apply(project, disbursed) -> None:
    """Bring the figures up to date with the project as written (`disbursed`: the sum of
    its payments, as the event's snapshot has it). Called by events.record inside the
    event's transaction, after the history head is locked (writers are serialised, so the
    first contribution to a figure creates its row without a race)."""
    from projects.models import MoneyFigure, ProjectFigure

    new = contribution([getattr(project, name) for name in PROJECT_FIELDS], disbursed)
    stored = ProjectFigure.objects.filter(pk=project.pk).values(*new).first()
    if stored == new:
        return
    for (year, org, dimension, value), delta in _deltas(stored, new).items():
        scope = {"year": year, "organization_id": org, "dimension": dimension, "value": value}
        sums = dict(zip(MONEY_SUMS, delta[1:], strict=True))
        updated = MoneyFigure.objects.filter(**scope).update(
            count=F("count") + delta[0], **{name: F(name) + sums[name] for name in MONEY_SUMS}
        )
        if not updated:
            MoneyFigure.objects.create(**scope, count=delta[0], **sums)
    if stored is None:
        ProjectFigure.objects.create(project_id=project.pk, **new)
    else:
        ProjectFigure.objects.filter(pk=project.pk).update(**new)


def compute(rows, paid: dict) -> tuple[dict[tuple, list], list[tuple[int, dict]]]:
    """The figures from scratch: {(year, org, dimension, value): [count, *MONEY_SUMS]} and
    each project's contribution. `rows`: (pk, *PROJECT_FIELDS); `paid`: {pk: sum}."""
    figures: dict[tuple, list] = defaultdict(lambda: [0, *(ZERO for _ in MONEY_SUMS)])
    parts = []
    for pk, *values in rows:
        part = contribution(values, paid.get(pk))
        parts.append((pk, part))
        _add(figures, part, 1)
    return dict(figures), parts


def rows_of(project_model, disbursement_model):
    """(rows, paid) as `compute` reads them (works on migration models)."""
    paid = dict(
        disbursement_model.objects.values("project_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("project_id", "total")
    )
    rows = project_model.objects.order_by("pk").values_list("pk", *PROJECT_FIELDS)
    return rows.iterator(chunk_size=5000), paid


def rebuild(project_model=None, disbursement_model=None, figure_model=None, part_model=None) -> int:
    """Replace every money figure and contribution with the from-scratch computation; the
    number of figures."""
    if project_model is None:
        from projects.models import Disbursement, MoneyFigure, Project, ProjectFigure

        project_model, disbursement_model = Project, Disbursement
        figure_model, part_model = MoneyFigure, ProjectFigure
    figures, parts = compute(*rows_of(project_model, disbursement_model))
    part_model.objects.all().delete()
    figure_model.objects.all().delete()
    part_model.objects.bulk_create(
        [part_model(project_id=pk, **part) for pk, part in parts], batch_size=2000
    )
    figure_model.objects.bulk_create(
        [
            figure_model(
                year=year,
                organization_id=org,
                dimension=dimension,
                value=value,
                count=sums[0],
                **dict(zip(MONEY_SUMS, sums[1:], strict=True)),
            )
            for (year, org, dimension, value), sums in sorted(
                figures.items(), key=lambda item: (item[0][0], item[0][1] or 0, *item[0][2:])
            )
        ],
        batch_size=2000,
    )
    return len(figures)
