"""The one lock helper: every write of state or money runs inside `locked_project`.

It opens the transaction, locks the project row (and the year's funding policy when the
pool is touched, always in that order: project, then pool, then the history head, so two
writers never wait on each other in a circle), and refuses a closed project: 三(五) 归档
makes a closed file read-only for everyone, superusers included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from projects.models import FundingPolicy, Project, State
from projects.services.errors import WorkflowError

CLOSED_MESSAGE = "该项目已结项归档,档案只读,任何内容都不能再修改。"


def stale_message(project: Project) -> str:
    return f"该项目的状态已变为“{project.get_state_display()}”,您看到的页面已过期,请刷新后再操作。"


@contextmanager
def locked_project(
    project: Project | int,
    *,
    pool: bool = False,
    expected_state: str | None = None,
    allow_closed: bool = False,
) -> Iterator[Project]:
    """Yield the project re-read under a row lock, inside one transaction.

    `expected_state`: the state the user saw when the form was drawn; a stale or doubled
    request (the state has moved on since) is refused instead of applied twice.
    """
    pk = project.pk if isinstance(project, Project) else project
    with transaction.atomic():
        try:
            locked = Project.objects.select_for_update().get(pk=pk)
        except Project.DoesNotExist as exc:
            raise WorkflowError("项目不存在。") from exc
        if expected_state is not None and locked.state != expected_state:
            raise WorkflowError(stale_message(locked))
        if locked.state == State.CLOSED and not allow_closed:
            raise WorkflowError(CLOSED_MESSAGE)
        if pool:
            lock_pool(locked.year)
        yield locked


def lock_pool(year: int) -> FundingPolicy | None:
    """Lock the year's funding policy row (the caller is inside a transaction)."""
    return FundingPolicy.objects.select_for_update().filter(year=year).first()


@contextmanager
def locked_policy(year: int) -> Iterator[FundingPolicy | None]:
    """Yield the year's policy under its row lock: serialises every change of the pool."""
    with transaction.atomic():
        yield lock_pool(year)
