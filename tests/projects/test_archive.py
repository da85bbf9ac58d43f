"""三(五) 归档: the archive package holds the application form, every decision and review,
the history, the reports, the summary and the files; whoever may see the project gets it."""

import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.services import apply_transition
from projects.services.change_requests import change_request_submit
from projects.services.documents import document_upload
from projects.services.reports import problem_report_submit, progress_report_submit
from tests.factories import PASSWORD
from tests.projects.fixtures_running import *  # noqa: F403
from tests.projects.fixtures_running import PDF_BYTES, PNG_BYTES, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(in_progress, applicant, reviewer, leader, media):
    project = in_progress
    progress_report_submit(
        project=project, actor=applicant, month=timezone.localdate(), progress="学习两次"
    )
    problem_report_submit(project=project, actor=applicant, description="场地紧张")
    change_request_submit(
        project=project, actor=applicant, kind="content", reason="天气", new_content="改为线上"
    )
    document_upload(project=project, actor=applicant, uploaded=upload("申请书扫描.pdf", PDF_BYTES))
    document_upload(
        project=project, actor=applicant, uploaded=upload("现场.png", PNG_BYTES), kind="photo"
    )
    from projects.services.summaries import summary_report_save
    from tests.projects.fixtures_running import SUMMARY

    summary_report_save(project=project, actor=applicant, **SUMMARY)
    project = apply_transition(project, "finish", actor=reviewer, opinion="同意报请验收")
    return apply_transition(
        project, "accept", actor=leader, opinion="验收优秀", conclusion="excellent"
    )


def fetch(client, user, project):
    client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("projects:project_archive", args=[project.pk]))


def test_archive_contents(client, archived, reviewer):
    response = fetch(client, reviewer, archived)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert names[:5] == [
        "01-项目申请书.txt",
        "02-审核与决定.txt",
        "03-项目历史.txt",
        "04-进展报告、问题上报与变更申请.txt",
        "05-活动总结报告.txt",
    ]
    docs = {n.split("-", 1)[1]: n for n in names if n.startswith("附件/")}
    assert set(docs) == {"申请书扫描.pdf", "现场.png"}
    assert archive.read(docs["申请书扫描.pdf"]) == PDF_BYTES
    assert archive.read(docs["现场.png"]) == PNG_BYTES
    text = {n: archive.read(n).decode("utf-8") for n in names[:5]}
    assert archived.code in text["01-项目申请书.txt"]
    assert (
        "组织专题学习。" in text["01-项目申请书.txt"] and "¥3,000.00" in text["01-项目申请书.txt"]
    )
    reviews = text["02-审核与决定.txt"]
    for expected in (
        "项目部初审",
        "领导小组复审",
        "验收",
        "同意立项",
        "验收优秀",
        "优秀",
        "支部书记",
    ):
        assert expected in reviews
    history = text["03-项目历史.txt"]
    # Readable Chinese: the steps' labels and states, not their names or Python dicts.
    for step in (
        "提交项目部初审",
        "初审通过,报领导小组",
        "复审通过,定级立项",
        "开始实施",
        "验收通过",
    ):
        assert f" {step}" in history, step
    assert "待项目部初审 → " in history and "验收结论:优秀" in history
    for raw in ("submit", "org_approve", "in_progress", "{'", "snapshot"):
        assert raw not in history, raw
    reports = text["04-进展报告、问题上报与变更申请.txt"]
    assert "学习两次" in reports and "场地紧张" in reports and "改为线上" in reports
    assert "活动预定目标" in text["05-活动总结报告.txt"]


@pytest.mark.parametrize("who", ["applicant", "leader", "finance", "auditor"])
def test_archive_for_everyone_who_sees_it(request, client, archived, who):
    assert fetch(client, request.getfixturevalue(who), archived).status_code == 200


@pytest.mark.parametrize("who", ["outsider", "outsider_applicant"])
def test_archive_refused_across_organisations(request, client, archived, who):
    assert fetch(client, request.getfixturevalue(who), archived).status_code == 404


def test_archive_of_project_without_records(client, approved, leader, media):
    response = fetch(client, leader, approved)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "(无)" in archive.read("05-活动总结报告.txt").decode()
    assert not [n for n in archive.namelist() if n.startswith("附件/")]
