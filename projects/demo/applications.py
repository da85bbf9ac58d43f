"""Demo applications in every state up to approval (DESIGN.md §3), driven through the real
services, so they obey every rule the product enforces. Idempotent: skipped when present."""

import datetime
from decimal import Decimal

from django.utils import timezone

from projects.demo.common import demo_policy
from projects.models import BudgetLine, ProhibitedItem, Project
from projects.models.choices import CHECKLIST
from projects.services import apply_transition, project_create, refresh_requested_amount

PROHIBITED = [
    ("旅游", "党费不得用于旅游"),
    ("宴请", "党费不得用于宴请"),
    ("高档娱乐", "党费不得用于高档娱乐"),
    ("固定资产", "党费不得购置固定资产"),
    ("个人补贴", "党费不得发放个人补贴"),
]
YES = {name: True for name, _ in CHECKLIST}

# (title, org index, target state, proposed grade, budget lines [(item, description, qty, price)])
DEMO = [
    ("“学习强国”党员学习小组", 0, "draft", 3, [("materials", "学习资料印制", 50, "20.00")]),
    ("社区党员志愿服务月", 0, "org_review", 3, [("training", "志愿服务培训", 2, "800.00")]),
    (
        "科技园党员先锋岗创建",
        1,
        "org_review_overdue",
        2,
        [("awards", "先锋岗表彰奖品", 10, "300.00")],
    ),
    ("困难党员冬季走访慰问", 1, "returned", 3, [("hardship", "困难党员补助", 8, "500.00")]),
    ("党史教育进校园", 2, "leadership_review", 2, [("training", "党史专题讲座", 4, "1500.00")]),
    (
        "红色书屋建设",
        2,
        "approved",
        1,
        [("materials", "党建书籍", 200, "60.00"), ("equipment", "书架", 4, "800.00")],
    ),
    ("党员集中宴请联谊", 0, "rejected", 3, [("other", "宴请及旅游", 1, "3000.00")]),
    ("退休党员座谈会", 1, "withdrawn", 4, []),
]


def load(data) -> list[str]:
    year = timezone.localdate().year
    demo_policy(year)
    for keyword, reason in PROHIBITED:
        ProhibitedItem.objects.get_or_create(keyword=keyword, defaults={"reason": reason})
    users = data["users"]
    made = []
    for title, org_index, target, grade, lines in DEMO:
        if Project.objects.filter(title=title).exists():
            continue
        number = org_index + 1
        applicant, reviewer = users[f"applicant{number}"], users[f"reviewer{number}"]
        project = _draft(title, data["orgs"][org_index], applicant, grade, lines)
        _advance(project, target, applicant, reviewer, users["leader1"])
        made.append(title)
    return [f"演示申请项目:新建 {len(made)} 个(草稿、初审、退回、复审、立项、未通过、撤回)。"]


def _draft(title, organization, applicant, grade, lines) -> Project:
    today = timezone.localdate()
    project = project_create(
        actor=applicant,
        organization=organization,
        leader=applicant,
        title=title,
        category="training",
        origin="self_planned",
        term="short",
        start_date=today + datetime.timedelta(days=14),
        end_date=today + datetime.timedelta(days=75),
        proposed_grade=grade,
        participants=40,
        leader_profile=f"{applicant.display_name},{organization}党员,长期参与党务工作。",
        purpose="提高党员理论水平,增强党组织凝聚力。",
        content="围绕主题开展集中学习、交流研讨和实践活动。",
        plan="第一周筹备,第二至六周分批开展,第八周总结。",
        expected_outcome="全体党员参与,形成学习心得和活动简报。",
    )
    for item, description, quantity, price in lines:
        amount = Decimal(quantity) * Decimal(price)
        BudgetLine.objects.create(
            project=project,
            item=item,
            description=description,
            quantity=quantity,
            unit_price=Decimal(price),
            amount=amount,
        )
    refresh_requested_amount(project, actor=applicant)
    return project


def _advance(project, target, applicant, reviewer, leader) -> None:
    if target == "draft":
        return
    if target == "withdrawn":
        apply_transition(project, "withdraw", actor=applicant, opinion="活动改由工会组织。")
        return
    apply_transition(project, "submit", actor=applicant)
    if target == "org_review_overdue":
        # Demo only: a submission made ten days ago, so the overdue marking shows.
        today = timezone.localdate()
        Project.objects.filter(pk=project.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(days=10),
            first_review_deadline=today - datetime.timedelta(days=3),
        )
        return
    if target == "org_review":
        return
    if target == "returned":
        apply_transition(
            project, "org_return", actor=reviewer, opinion="请补充补助对象名单和标准。", **YES
        )
        return
    if target == "rejected":
        apply_transition(
            project, "org_reject", actor=reviewer, opinion="宴请、旅游不属党费使用范围。", **YES
        )
        return
    apply_transition(project, "org_approve", actor=reviewer, opinion="同意上报。", **YES)
    if target == "approved":
        project.refresh_from_db()
        apply_transition(
            project,
            "approve",
            actor=leader,
            opinion="同意立项。",
            grade=project.proposed_grade,
            approved_amount=project.requested_amount,
            **YES,
        )
