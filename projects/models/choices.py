"""Code lists of the domain: English values stored, Chinese labels shown (DESIGN.md §2-§4)."""

from django.db import models


class State(models.TextChoices):
    DRAFT = "draft", "草稿"
    ORG_REVIEW = "org_review", "待项目部初审"
    RETURNED = "returned", "退回修改"
    LEADERSHIP_REVIEW = "leadership_review", "待领导小组复审"
    APPROVED = "approved", "已立项"
    IN_PROGRESS = "in_progress", "实施中"
    ACCEPTANCE = "acceptance", "待验收"
    ACCEPTED = "accepted", "已验收"
    SETTLEMENT_REVIEW = "settlement_review", "待审批拨付"
    PAYMENT = "payment", "待财政科结算"
    SETTLED = "settled", "已结算"
    CLOSED = "closed", "已结项归档"
    REJECTED = "rejected", "未通过"
    WITHDRAWN = "withdrawn", "已撤回"
    TERMINATED = "terminated", "已终止"


# States in which the application itself (sections, budget lines) may change.
EDITABLE_STATES = frozenset({State.DRAFT, State.RETURNED})
# States in which an approved project holds its approved amount in the year's pool.
COMMITTED_STATES = frozenset(
    {
        State.APPROVED,
        State.IN_PROGRESS,
        State.ACCEPTANCE,
        State.ACCEPTED,
        State.SETTLEMENT_REVIEW,
        State.PAYMENT,
    }
)
# States in which a project is running and owes monthly progress reports.
RUNNING_STATES = frozenset({State.IN_PROGRESS})
FINAL_STATES = frozenset({State.CLOSED, State.REJECTED, State.WITHDRAWN, State.TERMINATED})
# Before approval a project can have no reports, changes, invoices or payments yet.
PRE_APPROVAL_STATES = frozenset(
    {
        State.DRAFT,
        State.ORG_REVIEW,
        State.RETURNED,
        State.LEADERSHIP_REVIEW,
        State.REJECTED,
        State.WITHDRAWN,
    }
)


class Grade(models.IntegerChoices):
    """二(三) 四级拨款."""

    GRADE_1 = 1, "一级拨款项目"
    GRADE_2 = 2, "二级拨款项目"
    GRADE_3 = 3, "三级拨款项目"
    GRADE_4 = 4, "四级拨款项目(不予资金支持)"


class Category(models.TextChoices):
    """二(一) 立项支持的基本类型."""

    TRAINING = "training", "培训党员"
    MATERIALS = "materials", "订阅/购买党员教育报刊、资料和设备"
    COMMENDATION = "commendation", "表彰优秀共产党员和优秀党务工作者"
    HARDSHIP = "hardship", "补助生活困难党员"
    SELF_PLANNED = "self_planned", "围绕地区党建活动自行策划的项目"


class AllowedUse(models.TextChoices):
    """中组部《关于中国共产党党费收缴、使用和管理的规定》第十九条: what party fees may pay for."""

    TRAINING = "training", "培训党员"
    EDUCATION = "education", "订阅或购买用于开展党员教育的报刊、资料、音像制品和设备"
    COMMENDATION = "commendation", "表彰先进基层党组织、优秀共产党员和优秀党务工作者"
    HARDSHIP = "hardship", "补助生活困难的党员"
    DISASTER = "disaster", "补助遭受严重自然灾害的党员和修缮因灾受损的基层党员教育设施"


class Origin(models.TextChoices):
    ASSIGNED = "assigned", "工委确立"
    SELF_PLANNED = "self_planned", "自行策划"


class Term(models.TextChoices):
    SHORT = "short", "短期"
    MEDIUM = "medium", "中期"
    LONG = "long", "长期"


class BudgetItem(models.TextChoices):
    TRAINING = "training", "培训费"
    MATERIALS = "materials", "资料费"
    EQUIPMENT = "equipment", "设备费"
    AWARDS = "awards", "表彰奖励"
    HARDSHIP = "hardship", "困难补助"
    VENUE = "venue", "场地费"
    TRANSPORT = "transport", "交通费"
    OTHER = "other", "其他"


class ReviewKind(models.TextChoices):
    FIRST = "first", "项目部初审"
    LEADERSHIP = "leadership", "领导小组复审"
    ACCEPTANCE = "acceptance", "验收"
    SETTLEMENT = "settlement", "拨付审批"


class Decision(models.TextChoices):
    APPROVE = "approve", "同意"
    RETURN = "return", "退回修改"
    REJECT = "reject", "不同意"


class AcceptanceConclusion(models.TextChoices):
    EXCELLENT = "excellent", "优秀"
    PASS = "pass", "合格"
    FAIL = "fail", "不合格"


# 二(二) 立项活动应具备的基本条件: the six-condition checklist every reviewer answers.
CHECKLIST = [
    ("cond_goals", "层次鲜明的活动目标"),
    ("cond_budget", "严谨准确的财务预算"),
    ("cond_planning", "认真细致的活动策划"),
    ("cond_theme", "贴近党员的活动主题"),
    ("cond_argument", "科学严密的论证结构"),
    ("cond_feasible", "切实可行的研究方案"),
]
CHECKLIST_FIELDS = [name for name, _ in CHECKLIST]
