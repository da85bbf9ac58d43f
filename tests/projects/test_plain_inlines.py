"""Issue 15: a read-only project page draws its inlines as plain tables (no formset, no
management form, no hidden inputs) showing what Django's view-only formsets showed; an
editable draft keeps its formsets and saves; a POST to a read-only page is refused."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.admin.project import ProjectAdmin
from projects.models import BudgetLine, Project
from projects.services.documents import document_upload
from projects.services.reports import problem_report_submit, progress_report_submit
from projects.services.summaries import summary_report_save
from tests.projects.fixtures_money import add_invoices
from tests.projects.fixtures_running import *  # noqa: F403
from tests.projects.fixtures_running import PDF_BYTES, SUMMARY, upload
from tests.projects.test_change_form_integrity import form_data

pytestmark = pytest.mark.django_db


class InlineGroups(HTMLParser):
    """Each inline group of the page (div id="…-group"): its heading, column heads (class
    and text), and each row's cells (class, text and links), whitespace-normalised."""

    def __init__(self):
        super().__init__()
        self.groups: dict[str, dict] = {}
        self.inputs: list[dict] = []
        self._group = None
        self._depth = 0
        self._cell = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input":
            self.inputs.append(attrs)
        if self._group is None:
            if tag == "div" and (attrs.get("id") or "").endswith("-group"):
                self._group = {"heading": "", "heads": [], "rows": [], "links": []}
                self.groups[attrs["id"]] = self._group
                self._depth = 1
            return
        if tag == "div":
            self._depth += 1
        if (
            tag in ("h2", "th", "td", "h3", "label", "div")
            and tag != "div"
            or (tag == "div" and "readonly" in (attrs.get("class") or ""))
        ):
            self._cell = (tag, attrs.get("class") or "")
            self._text = []
        if tag == "tr" and self._group is not None:
            self._group["rows"].append([])
        if tag == "a":
            self._group["links"].append(attrs.get("href"))

    def handle_endtag(self, tag):
        if self._group is None:
            return
        if self._cell and tag == self._cell[0]:
            text = " ".join("".join(self._text).split())
            kind, css = self._cell
            if kind == "h2":
                self._group["heading"] = text
            elif kind == "th":
                self._group["heads"].append((css.strip(), text))
            elif self._group["rows"] or kind in ("td",):
                if not self._group["rows"]:
                    self._group["rows"].append([])
                self._group["rows"][-1].append((kind, css.strip(), text))
            else:
                self._group["rows"].append([(kind, css.strip(), text)])
            self._cell = None
        if tag == "div":
            self._depth -= 1
            if self._depth == 0:
                self._group = None

    def handle_data(self, data):
        if self._cell is not None:
            self._text.append(data)


def parse(response) -> InlineGroups:
    parser = InlineGroups()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def busy(in_progress, applicant, media):
    """A running project with a row in most of its inlines, more invoices than the cap."""
    this_month = timezone.localdate().replace(day=1)
    progress_report_submit(
        project=in_progress, actor=applicant, month=this_month, progress="学习两次\n讨论一次"
    )
    problem_report_submit(project=in_progress, actor=applicant, description="场地不足")
    document_upload(project=in_progress, actor=applicant, uploaded=upload("签到表.pdf", PDF_BYTES))
    add_invoices(in_progress, applicant, *["10.00"] * 23)
    summary_report_save(project=in_progress, actor=applicant, **SUMMARY)
    return in_progress


def page(client, user, project):
    client.force_login(user)
    return client.get(reverse("admin:projects_project_change", args=[project.pk]))


@pytest.mark.parametrize("who", ["reviewer", "leader", "applicant"])
def test_read_only_page_shows_the_same_inlines_without_formsets(
    client, busy, who, request, monkeypatch
):
    user = request.getfixturevalue(who)
    plain = page(client, user, busy)
    assert plain.status_code == 200
    body = plain.content.decode()
    # No formset at all: no management form, no hidden id inputs, no inline script data.
    assert "TOTAL_FORMS" not in body and "INITIAL_FORMS" not in body
    assert "data-inline-formset" not in body
    assert [i for i in parse(plain).inputs if i.get("name") != "csrfmiddlewaretoken"] == []
    # The invoice inline still caps at 20 and links to all of them.
    assert "共 23 张" in body and "查看全部发票" in body

    # Django's own view-only formsets, as the page was drawn before.
    monkeypatch.setattr(ProjectAdmin, "plain_read_only_inlines", False)
    formsets = page(client, user, busy)
    assert "TOTAL_FORMS" in formsets.content.decode()
    before, after = parse(formsets).groups, parse(plain).groups
    assert list(after) == list(before)
    assert len(after) >= 8
    for group in before:
        assert after[group]["heading"] == before[group]["heading"], group
        heads = [(css.replace(" required", ""), text) for css, text in before[group]["heads"]]
        assert after[group]["heads"] == heads, group
        assert after[group]["rows"] == before[group]["rows"], group
        assert after[group]["links"] == before[group]["links"], group
    shown = sum(len(rows) for rows in (g["rows"] for g in after.values()))
    assert shown > 30  # the rows compared are really there (budget, reports, 20 invoices …)


def test_read_only_page_refuses_a_post(client, busy, reviewer):
    client.force_login(reviewer)
    url = reverse("admin:projects_project_change", args=[busy.pk])
    response = client.post(url, {"title": "改名"})
    assert response.status_code == 403
    busy.refresh_from_db()
    assert busy.title != "改名"


def test_editable_draft_keeps_its_formsets_and_saves(client, draft, applicant):
    response = page(client, applicant, draft)
    body = response.content.decode()
    assert response.status_code == 200
    # The editable page is Django's formsets, management forms included (its POST needs them).
    assert 'name="budget_lines-TOTAL_FORMS"' in body and 'name="documents-TOTAL_FORMS"' in body
    assert "plain_inlines" not in response.context or not response.context["plain_inlines"]
    line = draft.budget_lines.order_by("pk").first()
    data = form_data(draft, title="改过的项目名称", **{"budget_lines-0-description": "改过的说明"})
    response = client.post(reverse("admin:projects_project_change", args=[draft.pk]), data)
    assert response.status_code == 302
    assert Project.objects.get(pk=draft.pk).title == "改过的项目名称"
    assert BudgetLine.objects.get(pk=line.pk).description == "改过的说明"
