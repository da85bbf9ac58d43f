"""The historical project import: a past year's finished record enters the books under the
same rules as a project that ran through the transitions (issue 10, hole 11).

- only a finished state (closed, rejected, withdrawn, terminated) of a past year;
- the code, when given, is `YYYY-NNNN` with the row's year, and its number is reserved in the
  year's counter (project_number_reserve), so an imported code can never block a new one;
  a row without a code gets the next number of its year;
- an approved amount obeys the year's FundingPolicy: the grade's cap (cap_for), not above the
  requested amount, grade 4 ⇒ 0; what the project holds in the pool (its settlement amount
  when closed) fits the year's remaining amount, checked under the pool lock;
- disbursed (nothing, for an import) ≤ settlement ≤ approved;
- one signed 'import' event (events.record) with the decided values.

A refusal is a ValidationError of Chinese messages for that row; the resource runs every row
in one transaction (all or nothing).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils import timezone

from projects.models import FundingPolicy, Project, State
from projects.models.choices import FINAL_STATES, Grade
from projects.money import ZERO, format_cny
from projects.services import events, locking
from projects.services.projects import project_code, project_number_reserve, project_number_take

HISTORICAL_STATES = FINAL_STATES
CODE_RE = re.compile(r"([0-9]{4})-([0-9]{4,6})")
FIRST_YEAR = 2000


def parse_code(code: str, year: int | None) -> tuple[int | None, list[str]]:
    """The number of an imported code (2020-0007 → 7), or the reasons it is refused."""
    match = CODE_RE.fullmatch(code or "")
    if match is None:
        return None, [f"项目编号“{code}”格式不对,应为“年度-序号”,如 2020-0001。"]
    code_year, number = int(match.group(1)), int(match.group(2))
    errors = []
    if year is not None and code_year != year:
        errors.append(f"项目编号“{code}”的年度与“年度”列({year})不一致。")
    if number == 0:
        errors.append(f"项目编号“{code}”的序号不能为 0。")
    elif code != project_code(int(match.group(1)), number):
        # 2020-00012 and 2020-0012 would be two codes for one number.
        canonical = project_code(code_year, number)
        errors.append(f"项目编号“{code}”的序号写法不对,应为“{canonical}”。")
    return number, errors


def historical_project_errors(project: Project) -> list[str]:
    """What a past year's finished record must satisfy by itself (the pool comes later)."""
    errors = []
    this_year = timezone.localdate().year
    if project.year is not None:
        if project.year >= this_year:
            errors.append(f"只能导入往年({this_year}年以前)的项目;本年度项目请在系统中申报。")
        elif project.year < FIRST_YEAR:
            errors.append(
                f"年度“{project.year}”无效(应在 {FIRST_YEAR} 年至 {this_year - 1} 年之间)。"
            )
    if project.code:
        errors += parse_code(project.code, project.year)[1]
    if project.leader_id and project.organization_id:
        if project.leader.organization_id != project.organization_id:
            errors.append("项目负责人不属于该申报组织。")
    requested = project.requested_amount
    approved = project.approved_amount
    settled = project.settlement_amount
    for value in (requested, approved, settled, project.loss_amount):
        if value is not None and value < 0:
            errors.append("金额不能为负数。")
            break
    if project.grade == Grade.GRADE_4 and (approved or ZERO) != 0:
        errors.append("四级拨款项目不予资金支持,核定金额必须为 0。")
    if settled is not None and (approved is None or settled > approved):
        errors.append("结算金额不能超过核定金额。")
    if project.state == State.CLOSED and (approved is None or project.grade is None):
        errors.append("已结项归档的项目须有核定等级和核定金额。")
    if project.state == State.CLOSED and (approved or ZERO) > 0 and settled is None:
        errors.append("核定金额不为零的已归档项目须有结算金额。")
    if approved is not None:
        if project.grade is None:
            errors.append("有核定金额的项目须填写核定等级。")
        if requested is None:
            errors.append("有核定金额的项目须填写申请金额。")
        elif approved > requested:
            errors.append(f"核定金额不能超过申请金额 {format_cny(requested)}。")
    return errors


def held_amount(project: Project):
    """What the record holds in its year's pool: the settlement when closed, else nothing."""
    return (project.settlement_amount or ZERO) if project.state == State.CLOSED else ZERO


def pool_errors(project: Project, policy: FundingPolicy | None) -> list[str]:
    """The year's caps and pool (二(三)), as the approve transition applies them."""
    if project.approved_amount is None:
        return []
    if policy is None:
        return [
            f"{project.year}年度尚未设定经费政策(年度总额和各级上限),"
            "不能导入有核定金额的项目;请先设定该年度的经费政策。"
        ]
    errors = []
    approved = project.approved_amount
    if project.grade is not None:
        cap = policy.cap_for(project.grade)
        if approved > cap:
            errors.append(
                f"核定金额 {format_cny(approved)} 超过{Grade(int(project.grade)).label}上限 "
                f"{format_cny(cap)}。"
            )
    held = held_amount(project)
    remaining = policy.remaining()
    if held > remaining:
        errors.append(
            f"该项目占用额度 {format_cny(held)} 超过{project.year}年度经费剩余额度 "
            f"{format_cny(remaining)}。"
        )
    return errors


def historical_project_create(project: Project, *, actor, source: str | None = None) -> Project:
    """Insert one past year's finished project and its signed 'import' event, atomically,
    under the year's pool lock. Raises ValidationError (Chinese messages) on a refusal."""
    errors = historical_project_errors(project)
    if errors:
        raise ValidationError(errors)
    with locking.locked_policy(project.year) as policy:
        errors = pool_errors(project, policy)
        if errors:
            raise ValidationError(errors)
        if project.code:
            project.number = parse_code(project.code, project.year)[0]
            if Project.objects.filter(code=project.code).exists():
                raise ValidationError(f"项目编号“{project.code}”已被占用。")
            project_number_reserve(project.year, project.number)
        else:
            project.number = project_number_take(project.year)
            project.code = project_code(project.year, project.number)
        project.requested_amount = project.requested_amount or ZERO
        project.committed_amount = held_amount(project)
        if project.state == State.CLOSED:
            project.closed_at = timezone.now()
        project.save(force_insert=True)
        events.record(
            project=project,
            actor=actor,
            action="import",
            from_state="",
            opinion=f"从往年台账导入{f'({source})' if source else ''}",
            data={
                "code": project.code,
                "year": project.year,
                "state": project.state,
                "grade": project.grade,
                "requested_amount": _str_or_none(project.requested_amount),
                "approved_amount": _str_or_none(project.approved_amount),
                "settlement_amount": _str_or_none(project.settlement_amount),
                "loss_amount": _str_or_none(project.loss_amount),
                "committed_amount": _str_or_none(project.committed_amount),
            },
        )
    return project


def _str_or_none(value):
    return None if value is None else str(value)
