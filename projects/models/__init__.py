from projects.models.archive import ArchivePackage  # noqa: F401
from projects.models.choices import (  # noqa: F401
    CHECKLIST,
    AcceptanceConclusion,
    AllowedUse,
    BudgetItem,
    Category,
    Decision,
    Grade,
    Origin,
    ReviewKind,
    State,
    Term,
)
from projects.models.documents import IssuedDocument  # noqa: F401, E402
from projects.models.figures import HistoryFigure, MoneyFigure, ProjectFigure  # noqa: F401
from projects.models.jobs import BackgroundJob  # noqa: F401
from projects.models.money import Disbursement, Invoice, RiskKeyword  # noqa: F401
from projects.models.previews import ImportPreview  # noqa: F401
from projects.models.project import (  # noqa: F401
    BudgetLine,
    FundingPolicy,
    ProhibitedItem,
    Project,
    ProjectCodeCounter,
)
from projects.models.records import HistoryHead, ProjectHistory, Review  # noqa: F401
from projects.models.running import (  # noqa: F401
    ChangeRequest,
    Document,
    ProblemReport,
    ProgressReport,
    Reminder,
    SummaryReport,
)
