#!/usr/bin/env python
"""Bounded load test on loopback: gunicorn + PostgreSQL, several users of each role doing
their daily work for a fixed time (reading, and the writes of each role: applicants draft
and submit applications, reviewers sign first reviews, leadership approves, finance checks
invoices and settles), then the invariants. Prints throughput and latency percentiles;
exits non-zero on any error or broken invariant. Stops by itself.

Before the day, the same users browse read-only in alternating phases (product, bare,
bare, product, ...): the same pages (dashboard → list → item, found from each user's own
dashboard before the clock starts) either from the product under /admin/ or from a bare
AdminSite over the same tables under /bare-load/ (bench/urls.py), served by the same
gunicorn through the same middleware (bench/load_settings.py). The product's throughput is
printed as a ratio of the bare admin's.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/harden \\
        .venv/bin/python bench/loadtest.py --duration 30 --users-per-role 2 \\
        --phase-pairs 3 --phase-seconds 8

It creates a fresh database beside DATABASE_URL's (dropped afterwards), loads the demo data,
starts `make serve` on a free loopback port and sends traffic only there (or to --base-url,
which must be a loopback address, for a server you started yourself).
Writes go through the same admin forms a browser posts (CSRF token included). A write
refused because another user got there first (the state changed, the pool ran out) is the
application working: counted as a refusal, not an error; a 5xx or an unexpected page is an
error.
"""

from __future__ import annotations

import argparse
import datetime
import http.cookiejar
import ipaddress
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEMO_PASSWORD = "Dangfei-Demo-2026"
ACCOUNTS = {
    "applicant": ["applicant1", "applicant2", "applicant3"],
    "org_reviewer": ["reviewer1", "reviewer2", "reviewer3"],
    "leadership": ["leader1", "leader2"],
    "finance": ["finance1", "finance2"],
    "auditor": ["auditor1"],
}
MAX_REQUESTS_PER_USER = 100_000  # a hard bound besides the clock
LINK = re.compile(r'href="(/admin/[a-z_]+/[a-z_]+/(?:\d+/change/)?)"')
BARE = "/bare-load/"
BARE_MODEL = re.compile(r'href="/bare-load/([a-z_]+/[a-z_]+)/"')
PRODUCT, BARE_ADMIN = "产品", "裸后台"


@dataclass
class Result:
    role: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    writes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refused: list[str] = field(default_factory=list)
    # The read-only comparison: latencies by side (PRODUCT / BARE_ADMIN).
    phases: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    # The same latencies by side and kind of page (see page_kind).
    pages: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))


def session():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def get(opener, url: str) -> tuple[int, str]:
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def log_in(opener, base_url: str, username: str) -> str:
    """The real sign-in forms; leadership and finance enrol a second factor on the first
    sign-in of the run (tests.production.server.sign_in, codes from pyotp)."""
    from tests.production.server import sign_in

    _status, url, page, _headers, _steps = sign_in(opener, base_url, username, DEMO_PASSWORD)
    if url.rstrip("/") != f"{base_url}/admin":
        raise RuntimeError(f"{username} 登录失败:{url}")
    return page


# --- the write side of daily work --------------------------------------------------------
# Every write is the POST a browser would send: the page's form is read, its fields kept as
# the browser would submit them, a few filled in, and the result page checked.

WRITE_EVERY = 4  # one write in every few requests per user; the rest is reading
SUCCESS = re.compile(r'<li class="success">')
REFUSED = re.compile(r'class="errornote"|<li class="error">|<li class="warning">条件未满足')
REASON = re.compile(
    r'class="errornote">\s*(?:<li>)?(.*?)<|<li class="(?:error|warning)">(.*?)</li>', re.S
)
PROJECT_ROW = re.compile(r'href="/admin/projects/project/(\d+)/change/')
INVOICE_ROW = re.compile(r'name="_selected_action" value="(\d+)"')


class FormReader(HTMLParser):
    """The fields of a page's main POST form, as a browser would submit them untouched."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = {"id": a.get("id", ""), "fields": {}}
            self.forms.append(self._form)
        if self._form is None:
            return
        fields, name = self._form["fields"], a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            fields[name] = a.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
                fields.setdefault(self._select, value)
            if "selected" in a:
                fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def main_form(page: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(page)
    forms = [f for f in reader.forms if f["id"] != "logout-form"]
    return max(forms, key=lambda f: len(f["fields"]))["fields"] if forms else {}


def refusal_reason(page: str) -> str:
    found = REASON.search(page)
    text = (found.group(1) or found.group(2)) if found else ""
    return re.sub(r"<[^>]+>|\s+", " ", text).strip()[:80] or "(无说明)"


def post(opener, url: str, data) -> tuple[int, str, str]:
    """POST a form (a dict, or pairs for repeated names); (status, body, final URL)."""
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, headers={"Referer": url})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode(errors="replace"), response.url
    except urllib.error.HTTPError as exc:
        return exc.code, "", url


class Worker:
    """One user's session: timed requests, every one counted in the role's figures."""

    def __init__(self, opener, base_url: str, username: str, result: Result):
        self.opener, self.base, self.username, self.result = opener, base_url, username, result

    def get(self, path: str) -> str | None:
        started = time.perf_counter()
        status, body = get(self.opener, self.base + path)
        self.result.latencies.append(time.perf_counter() - started)
        if status != 200:
            self.result.errors.append(f"{self.username} GET {path}: {status}")
            return None
        return body

    def submit(self, path: str, what: str, **values: str) -> str | None:
        """GET the form at path, POST it back with values; count the outcome."""
        page = self.get(path)
        if page is None:
            return None
        form = main_form(page)
        if "csrfmiddlewaretoken" not in form:
            # No form to fill: the page already says why (another user acted first).
            self.result.refused.append(f"{what}:{refusal_reason(page)}")
            return None
        data = {**form, **values}
        started = time.perf_counter()
        status, body, url = post(self.opener, self.base + path, data)
        self.result.latencies.append(time.perf_counter() - started)
        if status != 200:
            self.result.errors.append(f"{self.username} POST {path}: {status}")
        elif SUCCESS.search(body):
            self.result.writes[what] += 1
            return url
        elif REFUSED.search(body):
            # Someone else was first, or a rule said no: the application working as designed.
            self.result.refused.append(f"{what}:{refusal_reason(body)}")
        else:
            self.result.errors.append(f"{self.username} POST {path}: 无结果提示")
        return None

    def projects_in(self, state: str) -> list[str]:
        page = self.get(f"/admin/projects/project/?state__exact={state}") or ""
        return sorted(set(PROJECT_ROW.findall(page)))

    def transition(self, pk: str, name: str, **values: str) -> str | None:
        path = f"/admin/projects/project/{pk}/transition/{name}/"
        return self.submit(path, name, _confirm="1", **values)


CHECKLIST_YES = {
    f"cond_{name}": "yes"
    for name in ("goals", "budget", "planning", "theme", "argument", "feasible")
}


def applicant_writes(worker: Worker, rng: random.Random) -> None:
    """Draft an application with two budget lines and submit it."""
    today = datetime.date.today()
    url = worker.submit(
        "/admin/projects/project/add/",
        "新建申请",
        title=f"负载测试项目 {worker.username} {uuid.uuid4().hex[:8]}",
        category="training",
        start_date=today.isoformat(),
        end_date=(today + datetime.timedelta(days=20)).isoformat(),
        proposed_grade="3",
        leader_profile="负载测试",
        purpose="负载测试",
        content="负载测试",
        plan="负载测试",
        expected_outcome="负载测试",
        **{
            "budget_lines-0-item": "training",
            "budget_lines-0-description": "讲师费",
            "budget_lines-0-quantity": "2",
            "budget_lines-0-unit_price": str(rng.choice([100, 150, 200])),
            "budget_lines-1-item": "materials",
            "budget_lines-1-description": "学习资料",
            "budget_lines-1-quantity": "10",
            "budget_lines-1-unit_price": "12.50",
        },
        _continue="1",
    )
    found = re.search(r"/admin/projects/project/(\d+)/change/", url or "")
    if found:
        worker.transition(found.group(1), "submit")


def reviewer_writes(worker: Worker, rng: random.Random) -> None:
    pending = worker.projects_in("org_review")
    if pending:
        worker.transition(rng.choice(pending), "org_approve", opinion="同意上报。", **CHECKLIST_YES)


def leader_writes(worker: Worker, rng: random.Random) -> None:
    for state, name, values in (
        ("leadership_review", "approve", {"opinion": "同意立项。", **CHECKLIST_YES}),
        ("settlement_review", "approve_payment", {"opinion": "同意拨付。"}),
    ):
        pending = worker.projects_in(state)
        if pending:
            worker.transition(rng.choice(pending), name, **values)
            return


def finance_writes(worker: Worker, rng: random.Random) -> None:
    page = worker.get("/admin/projects/invoice/?check_status__exact=pending") or ""
    invoices = INVOICE_ROW.findall(page)
    if invoices:
        form = main_form(page)
        chosen = rng.sample(invoices, min(3, len(invoices)))
        # The admin reads the action of select number `index`: send exactly one.
        form.update(action="mark_qualified", index="0")
        data = list(form.items())
        data += [("_selected_action", pk) for pk in chosen]
        started = time.perf_counter()
        status, text, _url = post(worker.opener, worker.base + "/admin/projects/invoice/", data)
        worker.result.latencies.append(time.perf_counter() - started)
        if status != 200:
            worker.result.errors.append(f"{worker.username} 发票审核: {status}")
        elif SUCCESS.search(text):
            worker.result.writes["发票审核"] += 1
        else:
            worker.result.refused.append(f"发票审核:{refusal_reason(text)}")
        return
    pending = worker.projects_in("payment")
    if pending:
        worker.transition(
            rng.choice(pending),
            "settle",
            voucher_number=f"LT-{uuid.uuid4().hex[:12].upper()}",
            bank_serial=f"SN{rng.randrange(10**8):08d}",
            paid_on=datetime.date.today().isoformat(),
        )


WRITES = {
    "applicant": applicant_writes,
    "org_reviewer": reviewer_writes,
    "leadership": leader_writes,
    "finance": finance_writes,
}


class Phases:
    """Alternating read-only phases, all users together: each phase starts when every user
    has finished the last one (a barrier), so no request of one side runs in the other's
    time. Order product, bare, bare, product, ... so that a drift of the machine's load
    weighs on both sides alike."""

    def __init__(self, users: int, pairs: int, seconds: float):
        self.kinds = [k for i in range(pairs) for k in ((PRODUCT, BARE_ADMIN)[:: 1 - 2 * (i % 2)])]
        self.seconds, self.index, self.started, self.deadline = seconds, -1, 0.0, 0.0
        self.wall: dict[str, float] = defaultdict(float)
        self.loads: list[float] = []
        self.barrier = threading.Barrier(users, action=self._next, timeout=300)

    def _next(self):
        now = time.monotonic()
        if self.index >= 0:
            self.wall[self.kinds[self.index]] += now - self.started
        self.loads.append(os.getloadavg()[0])
        self.index += 1
        self.started, self.deadline = now, now + self.seconds


def discover(opener, base_url: str, index: str) -> list[str]:
    """The pages of a user's day, found as the day finds them (dashboard → lists → items),
    before the clock: those the bare admin also has (a model registered on both sites)."""
    pages = {"/admin/"} | set(LINK.findall(index))
    for path in sorted(pages):
        if not path.endswith("/change/") and len(pages) < 200:
            pages.update(LINK.findall(get(opener, base_url + path)[1]))
    bare = set(BARE_MODEL.findall(get(opener, base_url + BARE)[1]))
    if not bare:  # e.g. the server does not serve bench.urls: no comparison to make
        raise RuntimeError(f"裸后台 {BARE} 没有列出任何模型")
    return sorted(p for p in pages if p == "/admin/" or "/".join(p.split("/")[2:4]) in bare)


def browse_phases(worker: Worker | None, pages: list[str], phases: Phases, rng) -> None:
    for _ in phases.kinds:
        phases.barrier.wait()
        kind = phases.kinds[phases.index]
        while worker is not None and pages and time.monotonic() < phases.deadline:
            path = rng.choice(pages)
            url = path if kind == PRODUCT else BARE + path.removeprefix("/admin/")
            before = len(worker.result.latencies)
            worker.get(url)
            latency = worker.result.latencies.pop(before)
            worker.result.phases[kind].append(latency)
            worker.result.pages[kind, page_kind(path)].append(latency)
    phases.barrier.wait()  # closes the last phase


def page_kind(path: str) -> str:
    """工作台, a model's list or an item's page: '/admin/projects/invoice/12/change/' is
    'projects/invoice 详情'."""
    parts = path.strip("/").split("/")
    if len(parts) < 3:
        return "工作台"
    return "/".join(parts[1:3]) + (" 详情" if path.endswith("/change/") else " 列表")


def user_journey(base_url, role, username, start: threading.Barrier, clock: dict, result, phases):
    """Log in (before the clock starts: password hashing is deliberately slow), the
    alternating read-only phases, then the day's work: read the dashboard, the lists it
    links to and the items found there, and every few requests do the role's write
    (auditors only read)."""
    opener = session()
    try:
        index = log_in(opener, base_url, username)
        pages = discover(opener, base_url, index)
    except Exception as exc:  # counted, not raised: the run reports every error
        result.errors.append(f"{username} 登录:{exc}")
        index, pages = "", []
    worker = Worker(opener, base_url, username, result) if index else None
    browse_phases(worker, pages, phases, random.Random("phases" + username + str(id(result))))
    start.wait()
    if worker is None:
        return
    write = WRITES.get(role)
    pages = {"/admin/"} | set(LINK.findall(index))
    rng = random.Random(username + str(threading.get_ident()))
    for step in range(MAX_REQUESTS_PER_USER):
        if time.monotonic() >= clock["deadline"]:
            return
        if write is not None and step % WRITE_EVERY == WRITE_EVERY - 1:
            write(worker, rng)
            continue
        path = rng.choice(sorted(pages))
        body = worker.get(path)
        # Daily work: from the dashboard to a list, from a list to an item (the rows of a
        # list are the user's own, by scoping); an item's page is a leaf.
        if body and len(pages) < 200 and not path.endswith("/change/"):
            pages.update(LINK.findall(body))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(results: list[Result], seconds: float) -> list[str]:
    by_role: dict[str, list[float]] = defaultdict(list)
    for result in results:
        by_role[result.role].extend(result.latencies)
    everything = [x for r in results for x in r.latencies]
    lines = [
        f"{'角色':<14}{'请求数':>8}{'吞吐(次/秒)':>14}{'p50(ms)':>10}{'p90(ms)':>10}"
        f"{'p99(ms)':>10}{'最大(ms)':>10}"
    ]
    for role, values in [*sorted(by_role.items()), ("合计", everything)]:
        lines.append(
            f"{role:<14}{len(values):>8}{len(values) / seconds:>14.1f}"
            f"{percentile(values, 0.5) * 1000:>10.1f}{percentile(values, 0.9) * 1000:>10.1f}"
            f"{percentile(values, 0.99) * 1000:>10.1f}{max(values, default=0) * 1000:>10.1f}"
        )
    if everything:
        lines.append(f"平均延迟 {statistics.mean(everything) * 1000:.1f} ms")
    return lines


def compare(results: list[Result], phases: Phases) -> list[str]:
    """The read-only comparison: each side's requests over its own phases' wall time."""
    lines = [
        f"只读浏览对照(同一批用户与页面,产品与裸后台交替 {len(phases.kinds)} 段 × "
        f"{phases.seconds:g} 秒;各段开始时 1 分钟负载 "
        + "、".join(f"{x:.2f}" for x in phases.loads)
        + ")",
        f"{'':<10}{'请求数':>8}{'吞吐(次/秒)':>14}{'p50(ms)':>10}{'p90(ms)':>10}",
    ]
    rates = {}
    for kind in (PRODUCT, BARE_ADMIN):
        values = [x for r in results for x in r.phases[kind]]
        rates[kind] = len(values) / phases.wall[kind] if phases.wall[kind] else 0.0
        lines.append(
            f"{kind:<10}{len(values):>8}{rates[kind]:>14.1f}"
            f"{percentile(values, 0.5) * 1000:>10.1f}{percentile(values, 0.9) * 1000:>10.1f}"
        )
    ratio = rates[PRODUCT] / rates[BARE_ADMIN] if rates[BARE_ADMIN] else 0.0
    lines.append(f"吞吐比 产品 / 裸后台 = {ratio:.2f}×")
    lines.append(f"  {'页面':<28}{'请求数':>12}{'平均(ms) 产品 / 裸后台':>26}{'比':>8}")
    by_page: dict[tuple[str, str], list[float]] = defaultdict(list)
    for result in results:
        for key, values in result.pages.items():
            by_page[key].extend(values)
    for page in sorted({page for _, page in by_page}):
        ours, bare = by_page[PRODUCT, page], by_page[BARE_ADMIN, page]
        if ours and bare:
            mean, base = statistics.mean(ours), statistics.mean(bare)
            lines.append(
                f"  {page:<28}{len(ours):>6} / {len(bare):<5}"
                f"{mean * 1000:>14.0f} / {base * 1000:<10.0f}{mean / base:>6.2f}×"
            )
    return lines


def write_summary(results: list[Result]) -> str:
    done: dict[str, int] = defaultdict(int)
    for result in results:
        for what, count in result.writes.items():
            done[what] += count
    parts = [f"{LABELS.get(what, what)} {count}" for what, count in sorted(done.items())]
    refused = Counter(reason for r in results for reason in r.refused)
    listed = "、".join(parts)
    lines = [f"写操作 {sum(done.values())} 次({listed});被拒 {refused.total()} 次"]
    lines += [f"  被拒 {n} 次:{reason}" for reason, n in refused.most_common(5)]
    return "\n".join(lines)


LABELS = {
    "submit": "提交申请",
    "org_approve": "初审同意",
    "approve": "复审立项",
    "approve_payment": "批准拨付",
    "settle": "结算拨付",
}


INVARIANTS = """
from django.db.models import Count, Sum
from projects.models import Disbursement, FundingPolicy, Invoice, Project
problems = []
for policy in FundingPolicy.objects.all():
    if policy.committed() > policy.pool_total:
        problems.append(f"{policy.year} 年度经费池超支:{policy.committed()} > {policy.pool_total}")
for project in Project.objects.annotate(paid=Sum("disbursements__amount")):
    paid = project.paid or 0
    settled = project.settlement_amount
    if settled is not None and not (paid <= settled <= (project.approved_amount or 0)):
        approved = project.approved_amount
        problems.append(f"{project.code}: 拨付 {paid} / 结算 {settled} / 核定 {approved}")
duplicates = Invoice.objects.values("identity").annotate(n=Count("pk")).filter(n__gt=1)
problems += [f"发票重复:{row['identity']}" for row in duplicates]
print("\\n".join(problems) if problems else "INVARIANTS-OK")
"""


def check_invariants(env: dict) -> list[str]:
    import subprocess

    problems = []
    for args in (["verify_history"], ["shell", "-c", INVARIANTS]):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0 or (args[0] == "shell" and "INVARIANTS-OK" not in output):
            problems.append(output)
    return problems


def run(base_url: str, duration: float, users_per_role: int, phases_args=(1, 5.0)):
    results, threads = [], []
    clock: dict[str, float] = {}
    count = users_per_role * len(ACCOUNTS)
    phases = Phases(count, *phases_args)

    def start_clock():
        clock["started"] = time.monotonic()
        clock["deadline"] = clock["started"] + duration

    start = threading.Barrier(count, action=start_clock, timeout=300)
    for role, accounts in ACCOUNTS.items():
        for i in range(users_per_role):
            result = Result(role)
            results.append(result)
            username = accounts[i % len(accounts)]
            thread = threading.Thread(
                target=user_journey,
                args=(base_url, role, username, start, clock, result, phases),
                daemon=True,
            )
            threads.append(thread)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 2 * len(phases.kinds) * phases.seconds + 360)
    return results, time.monotonic() - clock["started"], phases


def require_loopback(base_url: str) -> None:
    host = urllib.parse.urlsplit(base_url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"只对本机回环地址施压:{base_url}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="党费项目化管理 回环负载测试(有界)")
    parser.add_argument("--duration", type=float, default=30, help="秒,缺省 30")
    parser.add_argument("--users-per-role", type=int, default=2, help="每个角色的并发用户数")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn 进程数")
    parser.add_argument("--phase-pairs", type=int, default=3, help="对照轮数(产品与裸后台各一段)")
    parser.add_argument("--phase-seconds", type=float, default=8, help="对照每段秒数,缺省 8")
    parser.add_argument("--base-url", help="已在本机运行的服务(须有演示数据);缺省自行启动")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 < args.users_per_role <= 20:
        raise SystemExit("持续时间须在 (0, 600] 秒,每角色并发数须在 1..20")
    if not 0 < args.phase_pairs <= 10 or not 0 < args.phase_seconds <= 60:
        raise SystemExit("对照轮数须在 1..10,每段秒数须在 (0, 60]")
    phases_args = (args.phase_pairs, args.phase_seconds)

    if args.base_url:
        require_loopback(args.base_url)
        results, seconds, phases = run(
            args.base_url, args.duration, args.users_per_role, phases_args
        )
        problems = []
        env = None
    else:
        from tests.production.server import serving

        with tempfile.TemporaryDirectory() as tmp:
            with serving(
                Path(tmp), workers=args.workers, settings_module="bench.load_settings"
            ) as (base_url, env):
                print(
                    f"gunicorn({args.workers} 进程)+ {env['DATABASE_URL'].split('://')[0]}:{base_url}"
                )
                results, seconds, phases = run(
                    base_url, args.duration, args.users_per_role, phases_args
                )
                problems = check_invariants(env)
    errors = [e for r in results for e in r.errors]
    print("\n".join(compare(results, phases)))
    users = f"并发用户 {len(results)}(每角色 {args.users_per_role})"
    print(f"日常工作(浏览与写操作):时长 {seconds:.1f} 秒,{users}")
    print("\n".join(report(results, seconds)))
    print(write_summary(results))
    print(f"错误 {len(errors)} 个" + (":" + ";".join(errors[:10]) if errors else ""))
    if env is not None:
        print("不变量:" + ("全部成立(经费池、结算、发票唯一、历史链)" if not problems else ""))
    for problem in problems:
        print(problem)
    return 1 if errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
