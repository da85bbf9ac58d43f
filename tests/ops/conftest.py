# The project fixtures (a funded policy, a complete draft, `advance`) are shared with the
# workflow tests rather than copied.
from tests.projects.conftest import advance, approved, draft, policy  # noqa: F401
