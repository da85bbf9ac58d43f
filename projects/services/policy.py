"""The year's funding policy (年度党员活动经费总额 and the cap per grade, 二(三)).

Changed only here, under the pool's row lock (the same lock every approval takes), so the
pool never falls below what approvals already hold and no cap below an approval made under
it. A policy is never deleted; every change is an event in the history chain.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Max, Sum

from projects.models import FundingPolicy, Project
from projects.money import ZERO, format_cny, parse_money, to_money
from projects.services import events
from projects.services.errors import WorkflowError
from projects.services.locking import locked_policy

POLICY_FIELDS = ("pool_total", "grade1_cap", "grade2_cap", "grade3_cap", "note")
CAP_FIELDS = {1: "grade1_cap", 2: "grade2_cap", 3: "grade3_cap"}


def policy_figures(year: int) -> dict[str, Decimal]:
    """Committed (held by approvals), disbursed and remaining of the year's pool."""
    from projects.models import Disbursement

    committed = Project.objects.filter(year=year).aggregate(t=Sum("committed_amount"))["t"]
    paid = Disbursement.objects.filter(project__year=year).aggregate(t=Sum("amount"))["t"]
    return {"committed": to_money(committed or ZERO), "disbursed": to_money(paid or ZERO)}


def policy_errors(year: int, values: dict) -> list[str]:
    errors = []
    committed = policy_figures(year)["committed"]
    pool = values.get("pool_total")
    if pool is not None and pool < committed:
        errors.append(
            f"年度经费总额 {format_cny(pool)} 低于已核定占用的 {format_cny(committed)},"
            "不能调低到已批准的金额以下。"
        )
    highest = dict(
        Project.objects.filter(year=year, approved_amount__isnull=False, grade__in=CAP_FIELDS)
        .values_list("grade")
        .annotate(top=Max("approved_amount"))
        .values_list("grade", "top")
    )
    for grade, name in CAP_FIELDS.items():
        cap, top = values.get(name), highest.get(grade)
        if cap is not None and top is not None and cap < top:
            errors.append(
                f"{FundingPolicy._meta.get_field(name).verbose_name} {format_cny(cap)} "
                f"低于该等级已核定的 {format_cny(top)},不能调低到已批准的金额以下。"
            )
    return errors


def _values_of(policy: FundingPolicy | None) -> dict:
    if policy is None:
        return {}
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def policy_save(*, actor, year: int, values: dict) -> FundingPolicy:
    """Create or change the year's policy (leadership), refused if it would break an
    approval already made; recorded as an event."""
    values = dict(values)
    for name in POLICY_FIELDS[:4]:
        if name in values:
            label = FundingPolicy._meta.get_field(name).verbose_name
            try:
                values[name] = parse_money(values[name], label)
            except ValidationError as exc:
                raise WorkflowError(exc.messages) from exc
    try:
        with locked_policy(year) as current:
            errors = policy_errors(year, values)
            if errors:
                raise WorkflowError(errors)
            before = _values_of(current)
            policy = current or FundingPolicy(year=year)
            for name in POLICY_FIELDS:
                if name in values:
                    setattr(policy, name, values[name])
            policy.save()
            after = _values_of(policy)
            events.record(
                actor=actor,
                action="policy_update" if current else "policy_create",
                subject=f"经费政策:{year}",
                data={
                    "year": year,
                    "before": {k: str(v) for k, v in before.items()},
                    "after": {k: str(v) for k, v in after.items()},
                },
            )
            return policy
    except IntegrityError as exc:
        raise WorkflowError(f"{year}年度的经费政策刚刚已被他人创建,请刷新后修改。") from exc
