"""Every write of state or money: the only code that changes them (LAYOUT.md).

Each service opens `locking.locked_project(...)` (one transaction, the project row locked,
the pool too when asked, a closed project refused), checks, writes, and calls
`events.record(...)` in the same transaction; mail goes to `transaction.on_commit`.
"""

from projects.services.errors import WorkflowError
from projects.services.projects import (
    application_saved,
    application_update,
    project_create,
    refresh_requested_amount,
)
from projects.services.transitions import (
    TRANSITIONS,
    apply_transition,
    available_transitions,
    check_transition,
    transition_label,
    transition_meta,
    unmet_conditions,
)

__all__ = [
    "TRANSITIONS",
    "WorkflowError",
    "application_saved",
    "application_update",
    "apply_transition",
    "available_transitions",
    "check_transition",
    "project_create",
    "refresh_requested_amount",
    "transition_label",
    "transition_meta",
    "unmet_conditions",
]
