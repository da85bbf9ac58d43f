"""The history's yearly figures (models.figures.HistoryFigure): what one event adds to them,
and the same rule run over every row from scratch.

The rule is the statistics' own (selectors.statistics.days_in_state and
selectors.obligations.first_review_counts): a stay in a state runs from a history row to
the project's next row; a first-review decision answers the latest submission before it,
on time when decided by the deadline that submission recorded.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import F
from django.utils import timezone

from projects.models.figures import FIRST_REVIEW, days_key
from projects.selectors.obligations import (
    FIRST_REVIEW_DECISIONS,
    first_review_deadline_for,
    first_review_on_time,
)

MICROSECOND = datetime.timedelta(microseconds=1)


def submission_deadline(created_at, recorded) -> datetime.date:
    """The deadline a submit event set: the one it recorded, else the rule's."""
    if recorded:
        return datetime.date.fromisoformat(recorded)
    return first_review_deadline_for(timezone.localdate(created_at))


def increments(previous, transition: str, created_at, deadline) -> list[tuple[str, int, int]]:
    """What one event adds: (key, count, total) for the stay it ends and its first review.

    `previous` is the project's previous row as (to_state, created_at) or None; `deadline`
    the deadline of the latest submission before this event (None if none)."""
    added = []
    if previous is not None:
        state, since = previous
        added.append((days_key(state), 1, (created_at - since) // MICROSECOND))
    if transition in FIRST_REVIEW_DECISIONS and deadline is not None:
        added.append((FIRST_REVIEW, 1, int(first_review_on_time(created_at, deadline))))
    return added


def add(project, added) -> None:
    """Add to the project's year and organisation figures. Called by events.record inside
    the event's transaction, after the history head is locked (so writers are serialised
    and the first event of a year creates its row without a race)."""
    from projects.models import HistoryFigure

    for key, count, total in added:
        scope = {"year": project.year, "organization_id": project.organization_id, "key": key}
        updated = HistoryFigure.objects.filter(**scope).update(
            count=F("count") + count, total=F("total") + total
        )
        if not updated:
            HistoryFigure.objects.create(**scope, count=count, total=total)


def compute(rows) -> dict[tuple[int, int, str], list[int]]:
    """The figures from scratch. `rows`: (project_id, year, organization_id, transition,
    to_state, created_at, recorded deadline) ordered by project and seq."""
    figures: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0])
    current, previous, deadline = None, None, None
    for project_id, year, organization_id, transition, to_state, created_at, recorded in rows:
        if project_id != current:
            current, previous, deadline = project_id, None, None
        for key, count, total in increments(previous, transition, created_at, deadline):
            figure = figures[(year, organization_id, key)]
            figure[0] += count
            figure[1] += total
        if transition == "submit":
            deadline = submission_deadline(created_at, recorded)
        previous = (to_state, created_at)
    return dict(figures)


def history_rows(history_model):
    """Every project's history in order, as `compute` reads it (works on migration models)."""
    return (
        history_model.objects.filter(project__isnull=False)
        .order_by("project_id", "seq")
        .values_list(
            "project_id",
            "project__year",
            "project__organization_id",
            "transition",
            "to_state",
            "created_at",
            "data__first_review_deadline",
        )
        .iterator(chunk_size=5000)
    )


def rebuild(history_model=None, figure_model=None) -> int:
    """Replace every figure with the from-scratch computation; the number of figures."""
    if history_model is None:
        from projects.models import HistoryFigure, ProjectHistory

        history_model, figure_model = ProjectHistory, HistoryFigure
    figures = compute(history_rows(history_model))
    figure_model.objects.all().delete()
    figure_model.objects.bulk_create(
        [
            figure_model(year=year, organization_id=org, key=key, count=count, total=total)
            for (year, org, key), (count, total) in sorted(figures.items())
        ],
        batch_size=2000,
    )
    return len(figures)
