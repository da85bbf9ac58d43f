"""Demo projects of the money side, driven through the real services from draft on: invoices
qualified, unqualified and flagged; projects awaiting final accounts, payment approval and
payment; settled projects, one with a reversal (红字冲销) and its corrected payment."""

import datetime
from decimal import Decimal

from django.utils import timezone

from projects.demo.common import CHECKLIST_YES, demo_policy
from projects.models import BudgetLine, Project, SummaryReport
from projects.models.money import RISK_KEYWORD_SEED, Disbursement, RiskKeyword
from projects.services import apply_transition, project_create, refresh_requested_amount
from projects.services.disbursements import (
    disbursement_record,
    disbursement_reverse,
    payee_defaults,
)
from projects.services.invoices import invoice_add, invoice_check

SELLERS = [
    ("青禾文化用品有限公司", "91350100M000100Y43"),
    ("青禾会务服务有限公司", "91110108551385082Q"),
]

# title, org index, grade, budget lines (item, description, amount), invoices
# (line index, total, check: "ok" / "bad" / None, flag), target stage, payable limit.
DEMO = [
    (
        "社区党员冬季轮训班",
        0,
        3,
        [("training", "授课讲师课酬", "4000.00"), ("materials", "培训教材", "2000.00")],
        [(0, "3600.00", "ok", ""), (1, "1500.00", "ok", ""), (1, "480.00", "bad", "buyer")],
        "settled_reversed",
        "5580.00",
    ),
    (
        "科技园党员教育资料采购",
        1,
        3,
        [("materials", "党员教育读本", "6000.00")],
        [(0, "2800.00", "ok", ""), (0, "2200.00", "ok", "")],
        "settled",
        "5000.00",
    ),
    (
        "学校优秀共产党员表彰",
        2,
        3,
        [("awards", "表彰证书与奖品", "5000.00")],
        [(0, "3000.00", None, ""), (0, "1800.00", None, "date")],
        "settlement_review",
        None,
    ),
    (
        "社区困难党员走访慰问",
        0,
        3,
        [("hardship", "困难党员慰问品", "3000.00")],
        [(0, "2000.00", "ok", ""), (0, "900.00", "bad", "")],
        "payment",
        "2900.00",
    ),
    (
        "科技园支部书记培训",
        1,
        3,
        [("training", "培训场地与课酬", "4500.00")],
        [(0, "4200.00", None, "")],
        "accepted",
        None,
    ),
]


def _accepted(title, org, applicant, reviewer, leader, grade, lines) -> Project:
    today = timezone.localdate()
    project = project_create(
        actor=applicant,
        organization=org,
        leader=applicant,
        title=title,
        category="training",
        start_date=today - datetime.timedelta(days=60),
        end_date=today - datetime.timedelta(days=10),
        proposed_grade=grade,
        leader_profile="长期从事基层党务工作。",
        purpose="提高党员党性修养和业务能力。",
        content="集中学习、专题辅导、交流研讨。",
        plan="按月推进,结束后总结汇报。",
        expected_outcome="支部全体党员参加并完成学习任务。",
    )
    for item, description, amount in lines:
        BudgetLine.objects.create(
            project=project,
            item=item,
            description=description,
            quantity=Decimal("1"),
            unit_price=Decimal(amount),
            amount=Decimal(amount),
        )
    refresh_requested_amount(project, actor=applicant)
    total = sum(Decimal(amount) for _, _, amount in lines)
    project = apply_transition(project, "submit", actor=applicant)
    project = apply_transition(
        project, "org_approve", actor=reviewer, opinion="符合立项条件,同意上报。", **CHECKLIST_YES
    )
    project = apply_transition(
        project,
        "approve",
        actor=leader,
        opinion="同意立项。",
        grade=grade,
        approved_amount=total,
    )
    project = apply_transition(project, "start", actor=applicant)
    SummaryReport.objects.create(
        project=project,
        goals="按计划完成活动目标。",
        conduct="活动按计划开展,党员参与积极。",
        self_assessment="组织有序,效果良好。",
        lessons="宣传动员可以更早开始。",
        participant_feedback="收获很大,希望常态化开展。",
        effect="党员理论水平和服务意识明显提高。",
        author=applicant,
    )
    project = apply_transition(project, "finish", actor=reviewer, opinion="活动已完成,报请验收。")
    return apply_transition(
        project, "accept", actor=leader, opinion="资料齐全,验收合格。", conclusion="pass"
    )


def _invoices(project, applicant, finance, specs) -> None:
    lines = list(project.budget_lines.order_by("pk"))
    for index, (line, total, check, flag) in enumerate(specs):
        seller, tax_id = SELLERS[index % len(SELLERS)]
        issue = project.start_date + datetime.timedelta(days=5 + index)
        if flag == "date":
            issue = project.start_date - datetime.timedelta(days=20)
        invoice = invoice_add(
            project=project,
            actor=applicant,
            kind="vat_ordinary",
            code="3100231130",
            number=f"{project.pk % 1000:03d}{index + 1:05d}",
            issue_date=issue,
            seller_name=seller,
            seller_tax_id=tax_id,
            buyer_name="青禾某商贸公司" if flag == "buyer" else project.organization.name,
            amount=Decimal(total),
            tax=Decimal("0.00"),
            total=Decimal(total),
            budget_line=lines[line],
        )
        if check:
            reason = "发票抬头不是本组织" if flag == "buyer" else "与活动无关的支出"
            invoice_check(invoice=invoice, actor=finance, qualified=check == "ok", reason=reason)


def _voucher(project, suffix: str) -> str:
    return f"PZ{project.code.replace('-', '')}{suffix}"


def _settle(project, finance) -> Project:
    today = timezone.localdate()
    return apply_transition(
        project,
        "settle",
        actor=finance,
        opinion="按合格票据结算。",
        voucher_number=_voucher(project, "01"),
        voucher_date=today,
        bank_serial=f"YH{project.pk:06d}01",
        paid_on=today,
        **payee_defaults(project),
    )


def _reverse_and_repay(project, finance) -> None:
    today = timezone.localdate()
    original = Disbursement.objects.get(project=project, reverses__isnull=True)
    disbursement_reverse(
        disbursement=original,
        actor=finance,
        voucher_number=_voucher(project, "02"),
        voucher_date=today,
        reason="收款账号登记错误,红字冲销后重新拨付。",
    )
    disbursement_record(
        project=project,
        actor=finance,
        amount=original.amount,
        voucher_number=_voucher(project, "03"),
        voucher_date=today,
        bank_serial=f"YH{project.pk:06d}03",
        paid_on=today,
        **payee_defaults(project),
    )


def seed_risk_keywords() -> None:
    for word, reason in RISK_KEYWORD_SEED:
        RiskKeyword.objects.get_or_create(word=word, defaults={"reason": reason})


def load(data) -> list[str]:
    seed_risk_keywords()
    if Project.objects.filter(title=DEMO[0][0]).exists():
        return []  # idempotent: already loaded
    users = data["users"]
    leader, finance = users["leader1"], users["finance1"]
    demo_policy(timezone.localdate().year)
    created = []
    for title, org_index, grade, lines, invoices, stage, limit in DEMO:
        n = org_index + 1
        applicant, reviewer = users[f"applicant{n}"], users[f"reviewer{n}"]
        project = _accepted(
            title, data["orgs"][org_index], applicant, reviewer, leader, grade, lines
        )
        _invoices(project, applicant, finance, invoices)
        if stage != "accepted":
            actuals = {line.pk: line.amount for line in project.budget_lines.all()}
            project = apply_transition(
                project, "request_settlement", actor=reviewer, actual_amounts=actuals
            )
        if limit:
            project = apply_transition(
                project,
                "approve_payment",
                actor=leader,
                opinion="同意按批准限额拨付。",
                payable_limit=Decimal(limit),
            )
        if stage.startswith("settled"):
            project = _settle(project, finance)
        if stage == "settled_reversed":
            _reverse_and_repay(project, finance)
        created.append(f"  {project.code} {title}:{project.get_state_display()}")
    return ["资金结算演示项目:", *created]
