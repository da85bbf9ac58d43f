"""City-scale data for the benchmarks: organisations, users, funding policies, projects spread
over every state with consistent money, budget lines, invoices, chained history rows and
disbursements.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/generate.py --projects 100000 --invoices 1000000 --years 10

The rows are built as plain tuples and written with PostgreSQL's COPY (executemany on
SQLite, so a tiny run works anywhere). Nothing here is a way to change data in production:
it writes a benchmark database from scratch, with ids above the current maximum.
History rows carry real HMAC digests, so `manage.py verify_history` passes on the result.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# The state mix of a city's year: most projects finished, some running, a few in review.
STATE_WEIGHTS = [
    ("closed", 40),
    ("settled", 5),
    ("payment", 2),
    ("settlement_review", 2),
    ("accepted", 3),
    ("acceptance", 3),
    ("in_progress", 12),
    ("approved", 4),
    ("leadership_review", 3),
    ("org_review", 4),
    ("returned", 2),
    ("draft", 8),
    ("rejected", 6),
    ("withdrawn", 3),
    ("terminated", 3),
]
# The path through the transitions to each state (DESIGN.md §3).
PATHS = {
    "draft": [],
    "org_review": ["submit"],
    "returned": ["submit", "org_return"],
    "withdrawn": ["submit", "withdraw"],
    "leadership_review": ["submit", "org_approve"],
    "rejected": ["submit", "org_approve", "reject"],
    "approved": ["submit", "org_approve", "approve"],
    "terminated": ["submit", "org_approve", "approve", "terminate"],
    "in_progress": ["submit", "org_approve", "approve", "start"],
    "acceptance": ["submit", "org_approve", "approve", "start", "finish"],
    "accepted": ["submit", "org_approve", "approve", "start", "finish", "accept"],
    "settlement_review": [
        *["submit", "org_approve", "approve", "start", "finish", "accept"],
        "request_settlement",
    ],
    "payment": [
        *["submit", "org_approve", "approve", "start", "finish", "accept"],
        *["request_settlement", "approve_payment"],
    ],
    "settled": [
        *["submit", "org_approve", "approve", "start", "finish", "accept"],
        *["request_settlement", "approve_payment", "settle"],
    ],
    "closed": [
        *["submit", "org_approve", "approve", "start", "finish", "accept"],
        *["request_settlement", "approve_payment", "settle", "close"],
    ],
}
TARGETS = {
    "submit": "org_review",
    "org_return": "returned",
    "withdraw": "withdrawn",
    "org_approve": "leadership_review",
    "reject": "rejected",
    "approve": "approved",
    "terminate": "terminated",
    "start": "in_progress",
    "finish": "acceptance",
    "accept": "accepted",
    "request_settlement": "settlement_review",
    "approve_payment": "payment",
    "settle": "settled",
    "close": "closed",
}
APPROVED_STATES = {s for s, path in PATHS.items() if "approve" in path}
SETTLED_STATES = {"settled", "closed"}
INVOICED_STATES = APPROVED_STATES - {"approved", "terminated"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20000)
    parser.add_argument("--invoices", type=int, default=200000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--organizations", type=int, default=0, help="0: one per 200 projects")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--chunk", type=int, default=20000)
    return parser.parse_args(argv)


class Writer:
    """COPY on PostgreSQL, executemany elsewhere; ids are assigned here."""

    def __init__(self, connection, chunk: int):
        self.connection = connection
        self.chunk = chunk
        self.postgres = connection.vendor == "postgresql"

    def next_id(self, model) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
            return cursor.fetchone()[0] + 1

    def write(self, model, columns: list[str], rows) -> int:
        table = model._meta.db_table
        count = 0
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) >= self.chunk:
                count += self._flush(table, columns, batch)
                batch = []
        if batch:
            count += self._flush(table, columns, batch)
        return count

    def _flush(self, table, columns, batch) -> int:
        names = ", ".join(columns)
        with self.connection.cursor() as cursor:
            if self.postgres:
                raw = cursor.cursor
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)
        return len(batch)

    def reset_sequences(self, models) -> None:
        if not self.postgres:
            return
        with self.connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )


def generate(
    *,
    projects: int,
    invoices: int,
    years: int,
    organizations: int = 0,
    seed: int = 2026,
    chunk: int = 20000,
    out=print,
):
    import json

    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Organization, User
    from projects.models import (
        BudgetLine,
        Disbursement,
        FundingPolicy,
        HistoryHead,
        Invoice,
        Project,
        ProjectCodeCounter,
        ProjectHistory,
    )
    from projects.services.events import compute_digest

    rng = random.Random(seed)
    writer = Writer(connection, chunk)
    now = timezone.now()
    this_year = timezone.localdate().year
    first_year = this_year - years + 1
    n_orgs = organizations or max(2, projects // 200)
    started = time.perf_counter()

    with transaction.atomic():
        root, _ = Organization.objects.get_or_create(
            name="基准测试地区工委", defaults={"kind": "work_committee"}
        )
        org_id = writer.next_id(Organization)
        org_ids = list(range(org_id, org_id + n_orgs))
        writer.write(
            Organization,
            ["id", "name", "short_name", "kind", "parent_id", "uscc", "payee_name", "bank_name"]
            + ["bank_account", "contact_phone", "is_active"],
            (
                (i, f"基准第{i}党支部", "", "grassroots", root.pk, "", f"基准第{i}党支部")
                + ("测试银行", f"6222{i:012d}", "", True)
                for i in org_ids
            ),
        )
        # One leader (applicant) and one reviewer per organisation, plus a leader and finance.
        user_id = writer.next_id(User)
        users = []
        leaders, reviewers = {}, {}
        for k, org in enumerate(org_ids):
            leaders[org] = user_id + 2 * k
            reviewers[org] = user_id + 2 * k + 1
            users.append((leaders[org], f"bench_a{org}", org, "项目负责人"))
            users.append((reviewers[org], f"bench_r{org}", org, "支部书记"))
        boss = user_id + 2 * n_orgs
        cashier = boss + 1
        users.append((boss, f"bench_leader{boss}", root.pk, "组长"))
        users.append((cashier, f"bench_finance{cashier}", root.pk, "会计"))
        writer.write(
            User,
            ["id", "password", "is_superuser", "username", "first_name", "last_name", "email"]
            + ["is_staff", "is_active", "date_joined", "organization_id", "title", "phone"]
            + ["demo_account"],
            (
                (uid, "!", False, name, "", "基准", "", True, True, now, org, title, "", False)
                for uid, name, org, title in users
            ),
        )
        groups = dict(Group.objects.values_list("name", "pk"))
        through = User.groups.through
        memberships = [(uid, groups["applicant"]) for uid in leaders.values()]
        memberships += [(uid, groups["org_reviewer"]) for uid in reviewers.values()]
        memberships += [(boss, groups["leadership"]), (cashier, groups["finance"])]
        writer.write(through, ["user_id", "group_id"], memberships)
        for year in range(first_year, this_year + 1):
            FundingPolicy.objects.get_or_create(
                year=year,
                defaults={
                    "pool_total": Decimal("1000000000.00"),
                    "grade1_cap": Decimal("30000.00"),
                    "grade2_cap": Decimal("15000.00"),
                    "grade3_cap": Decimal("5000.00"),
                },
            )

        states, weights = zip(*STATE_WEIGHTS, strict=True)
        project_id = writer.next_id(Project)
        line_id = writer.next_id(BudgetLine)
        invoice_id = writer.next_id(Invoice)
        disbursement_id = writer.next_id(Disbursement)
        history_id = writer.next_id(ProjectHistory)
        # About 70% of the projects reach a state with invoices (most past years are closed).
        per_project = max(1, round(invoices / max(1, projects * 0.7)))
        codes: dict[int, int] = dict(ProjectCodeCounter.objects.values_list("year", "last_number"))
        # One chain across the whole system (projects.services.events): continue from the head.
        head = HistoryHead.objects.filter(pk=1).first()
        gseq, gdigest = (head.global_seq, head.digest) if head else (0, "")
        key_id = settings.HISTORY_HMAC_KEY_ID
        project_rows, line_rows, invoice_rows, disbursement_rows, history_rows = [], [], [], [], []
        for p in range(projects):
            pid = project_id + p
            year = first_year + (p * years) // projects
            # Past years are finished; the current year holds the running and open ones.
            state = rng.choices(states, weights)[0]
            if year < this_year and state not in ("closed", "rejected", "withdrawn", "terminated"):
                state = "closed"
            org = org_ids[rng.randrange(n_orgs)]
            codes[year] = codes.get(year, 0) + 1
            code = f"{year}-{codes[year]:04d}"  # the product's format (services.project_create)
            grade = rng.choice([1, 2, 3, 3, 3, 4]) if state in APPROVED_STATES else None
            requested = Decimal(rng.randrange(500, 30000)).quantize(Decimal("0.01"))
            approved = committed = payable = settlement = loss = None
            if state in APPROVED_STATES:
                cap = {1: 30000, 2: 15000, 3: 5000, 4: 0}[grade]
                approved = min(requested, Decimal(cap)).quantize(Decimal("0.01"))
                committed = approved
                if state == "terminated":
                    committed = Decimal("0.00")
            invoiced = state in INVOICED_STATES and approved and approved > 0
            n_invoices = per_project if invoiced else 0
            invoice_total = Decimal("0.00")
            start = datetime.date(year, 1 + rng.randrange(9), 1 + rng.randrange(27))
            end = start + datetime.timedelta(days=rng.randrange(10, 120))
            line_rows.append(
                (line_id + p, pid, "materials", "学习资料", Decimal("1.00"), requested, requested)
                + (requested if invoiced else None,)
            )
            for _ in range(n_invoices):
                iid = invoice_id + len(invoice_rows)
                amount = Decimal(rng.randrange(10, 2000)).quantize(Decimal("0.01"))
                status = "pending"
                if state in ("payment", "settled", "closed"):
                    status = "unqualified" if rng.random() < 0.05 else "qualified"
                invoice_total += amount
                invoice_rows.append(
                    (iid, pid, line_id + p, "vat_ordinary", "011001900111", f"{iid:08d}")
                    + (f"011001900111-{iid:08d}", start, "基准商店", "91350100M000100Y43")
                    + (f"基准第{org}党支部", amount, Decimal("0.00"), amount, None, status, "")
                    + (None, None, leaders[org], now)
                    + ("", "", "", "91350100M000100Y43|011001900111|", iid)
                )
                if status == "unqualified":
                    loss = (loss or Decimal("0.00")) + amount
            if state in ("payment", "settled", "closed") and approved and approved > 0:
                payable = min(approved, invoice_total) or approved
            if state in SETTLED_STATES and approved is not None:
                qualified = invoice_total - (loss or Decimal("0.00"))
                settlement = min(qualified, payable or Decimal("0.00"))
                loss = loss or Decimal("0.00")
                committed = settlement
                if settlement > 0:
                    disbursement_rows.append(
                        (disbursement_id + len(disbursement_rows), pid, settlement, "项目结算拨付")
                        + (f"PZ{pid:010d}", end, "allocation", f"基准第{org}党支部", "测试银行")
                        + (f"6222{org:012d}", f"LS{pid:012d}", end, cashier, boss, cashier)
                        + (None, "", now)
                    )
            submitted = now - datetime.timedelta(days=(this_year - year) * 365 + 200)
            project_rows.append(
                (
                    pid,
                    code,
                    codes[year],
                    year,
                    f"基准党员教育项目{pid}",
                    "training",
                    "",
                    "self_planned",
                )
                + ("short", start, end, org, leaders[org], "简介", "目的", "内容", "计划")
                + ("目标", 20, 3, grade, requested, approved, committed or Decimal("0.00"))
                + (payable, boss if payable else None, settlement, loss)
                + (submitted if state != "draft" else None, submitted.date(), False)
                + (now if state == "closed" else None, now, now, state)
            )
            prev, at = "", submitted
            for seq, name in enumerate(["create", *PATHS[state]], start=1):
                actor = {"create": leaders[org], "submit": leaders[org], "settle": cashier}.get(
                    name
                )
                if actor is None:
                    actor = (
                        reviewers[org]
                        if name.startswith("org_")
                        or name
                        in (
                            "finish",
                            "request_settlement",
                        )
                        else boss
                    )
                gseq += 1
                row = ProjectHistory(
                    id=history_id + len(history_rows),
                    global_seq=gseq,
                    project_id=pid,
                    seq=seq,
                    transition=name,
                    subject="",
                    from_state=prev if name == "create" else prev or "draft",
                    to_state=TARGETS.get(name, "draft"),
                    actor_id=actor,
                    actor_name="基准用户",
                    actor_organization="基准",
                    actor_title="",
                    actor_roles="基准角色",
                    opinion="同意",
                    data={},
                    created_at=at,
                    key_id=key_id,
                    prev_digest=gdigest,
                )
                row.digest = compute_digest(row)
                history_rows.append(
                    (row.id, gseq, pid, seq, name, "", row.from_state, row.to_state, actor)
                    + ("基准用户", "基准", "", "基准角色", "同意", json.dumps({}), at, key_id)
                    + (gdigest, row.digest)
                )
                prev, gdigest = row.to_state, row.digest
                at = at + datetime.timedelta(days=rng.randrange(1, 12), hours=rng.randrange(24))
            if len(project_rows) >= chunk:
                _flush_projects(writer, project_rows, line_rows, invoice_rows)
                _flush_rest(writer, disbursement_rows, history_rows)
                invoice_id += _written(writer, "invoices")
                disbursement_id += _written(writer, "disbursements")
                history_id += _written(writer, "history")
                project_rows, line_rows, invoice_rows = [], [], []
                disbursement_rows, history_rows = [], []
        _flush_projects(writer, project_rows, line_rows, invoice_rows)
        _flush_rest(writer, disbursement_rows, history_rows)
        HistoryHead.objects.update_or_create(pk=1, defaults={"global_seq": gseq, "digest": gdigest})
        for year, number in codes.items():
            ProjectCodeCounter.objects.update_or_create(year=year, defaults={"last_number": number})
        writer.reset_sequences(
            [Organization, User, Project, BudgetLine, Invoice, Disbursement, ProjectHistory]
        )
        # The statistics' yearly figures of the history written here (services.figures).
        # And the money figures of its projects and payments (services.money_figures).
        from projects.services import money_figures
        from projects.services.figures import rebuild

        rebuild()
        money_figures.rebuild()
    counts = {
        "组织": n_orgs,
        "项目": Project.objects.count(),
        "发票": Invoice.objects.count(),
        "历史": ProjectHistory.objects.count(),
        "拨付": Disbursement.objects.count(),
    }
    out(
        "生成完成("
        + ",".join(f"{k} {v}" for k, v in counts.items())
        + f"),用时 {time.perf_counter() - started:.1f} 秒"
    )
    return counts


_WRITTEN = {"invoices": 0, "disbursements": 0, "history": 0}


def _written(writer, key) -> int:
    value, _WRITTEN[key] = _WRITTEN[key], 0
    return value


PROJECT_COLUMNS = [
    "id", "code", "number", "year", "title", "category", "allowed_use", "origin", "term",
    "start_date", "end_date", "organization_id", "leader_id", "leader_profile", "purpose",
    "content", "plan", "expected_outcome", "participants", "proposed_grade", "grade",
    "requested_amount", "approved_amount", "committed_amount", "payable_limit",
    "payment_approved_by_id", "settlement_amount", "loss_amount", "submitted_at",
    "first_review_deadline", "is_commended", "closed_at", "created_at", "updated_at", "state",
]  # fmt: skip
LINE_COLUMNS = [
    "id", "project_id", "item", "description", "quantity", "unit_price", "amount",
    "actual_amount",
]  # fmt: skip
INVOICE_COLUMNS = [
    "id", "project_id", "budget_line_id", "kind", "code", "number", "identity", "issue_date",
    "seller_name", "seller_tax_id", "buyer_name", "amount", "tax", "total", "scan_id",
    "check_status", "check_reason", "checked_by_id", "checked_at", "created_by_id",
    "created_at", "buyer_tax_id", "item_names", "capture_source", "series", "serial",
]  # fmt: skip
DISBURSEMENT_COLUMNS = [
    "id", "project_id", "amount", "purpose", "voucher_number", "voucher_date", "method",
    "payee_name", "payee_bank", "payee_account", "bank_serial", "paid_on", "prepared_by_id",
    "approved_by_id", "paid_by_id", "reverses_id", "note", "created_at",
]  # fmt: skip
HISTORY_COLUMNS = [
    "id", "global_seq", "project_id", "seq", "transition", "subject", "from_state", "to_state",
    "actor_id",
    "actor_name", "actor_organization", "actor_title", "actor_roles", "opinion", "data",
    "created_at", "key_id", "prev_digest", "digest",
]  # fmt: skip


def _flush_projects(writer, project_rows, line_rows, invoice_rows):
    from projects.models import BudgetLine, Invoice, Project

    writer.write(Project, PROJECT_COLUMNS, project_rows)
    writer.write(BudgetLine, LINE_COLUMNS, line_rows)
    _WRITTEN["invoices"] += writer.write(Invoice, INVOICE_COLUMNS, invoice_rows)


def _flush_rest(writer, disbursement_rows, history_rows):
    from projects.models import Disbursement, ProjectHistory

    _WRITTEN["disbursements"] += writer.write(Disbursement, DISBURSEMENT_COLUMNS, disbursement_rows)
    _WRITTEN["history"] += writer.write(ProjectHistory, HISTORY_COLUMNS, history_rows)


def main(argv=None):
    import django

    django.setup()
    args = parse_args(argv)
    generate(
        projects=args.projects,
        invoices=args.invoices,
        years=args.years,
        organizations=args.organizations,
        seed=args.seed,
        chunk=args.chunk,
    )


if __name__ == "__main__":
    main()
