"""History that cannot be quietly changed (DESIGN.md §6 verify_history): the HMAC chain
catches an edited and a deleted row; no admin page adds, changes or deletes history."""

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command

from projects.models import ProjectHistory, Review

pytestmark = pytest.mark.django_db


def test_clean_chain_passes(approved, capsys):
    call_command("verify_history")
    assert "审批历史完整:核验 3 条记录" in capsys.readouterr().out


def test_rows_are_chained(approved):
    rows = list(ProjectHistory.objects.filter(project=approved).order_by("seq"))
    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_digest == ""
    assert rows[1].prev_digest == rows[0].digest and rows[2].prev_digest == rows[1].digest


def test_edited_opinion_is_caught(approved, capsys):
    ProjectHistory.objects.filter(project=approved, seq=2).update(opinion="改过的意见")
    with pytest.raises(CommandError):
        call_command("verify_history")
    err = capsys.readouterr().err
    assert f"项目 #{approved.pk} 的历史第2条" in err and "被改动" in err


def test_edited_amount_with_recomputed_plain_hash_is_caught(approved, capsys):
    # Someone with database access but without the key cannot re-forge the digest.
    import hashlib

    row = ProjectHistory.objects.get(project=approved, seq=3)
    ProjectHistory.objects.filter(pk=row.pk).update(
        data={"grade": 1, "approved_amount": "30000.00"},
        digest=hashlib.sha256(b"forged").hexdigest(),
    )
    with pytest.raises(CommandError):
        call_command("verify_history")
    assert "第3条" in capsys.readouterr().err


def test_deleted_middle_row_is_caught(approved, capsys):
    ProjectHistory.objects.filter(project=approved, seq=2).delete()
    with pytest.raises(CommandError):
        call_command("verify_history")
    err = capsys.readouterr().err
    assert "第2条" in err and "删除" in err


def test_deleted_last_row_is_caught(approved, capsys):
    ProjectHistory.objects.filter(project=approved, seq=3).delete()
    with pytest.raises(CommandError):
        call_command("verify_history")
    assert "末尾" in capsys.readouterr().err


@pytest.mark.parametrize("model", [ProjectHistory, Review])
def test_no_admin_page_edits_history_or_reviews(model, admin_client, approved):
    model_admin = admin.site._registry.get(model)
    if model_admin is not None:
        from django.test import RequestFactory

        from accounts.models import User

        request = RequestFactory().get("/")
        request.user = User.objects.get(username="admin")
        row = model.objects.filter(project=approved).first()
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, row)
        assert not model_admin.has_delete_permission(request, row)
    name = model._meta.model_name
    assert admin_client.get(f"/admin/projects/{name}/add/").status_code in (403, 404)


def test_history_shown_read_only_on_change_page(admin_client, approved):
    response = admin_client.get(f"/admin/projects/project/{approved.pk}/change/")
    body = response.content.decode()
    assert "项目历史(不可更改)" in body
    assert "同意立项" in body and "待领导小组复审 → 已立项" in body


def test_demo_data_obeys_the_rules_and_is_idempotent(capsys):
    from projects.models import Project, State

    call_command("demo_data")
    states = set(Project.objects.values_list("state", flat=True))
    assert {
        State.DRAFT,
        State.ORG_REVIEW,
        State.RETURNED,
        State.LEADERSHIP_REVIEW,
        State.APPROVED,
        State.REJECTED,
        State.WITHDRAWN,
    } <= states
    assert any(p.is_overdue_first_review for p in Project.objects.all())
    count, history = Project.objects.count(), ProjectHistory.objects.count()
    call_command("demo_data")
    assert (Project.objects.count(), ProjectHistory.objects.count()) == (count, history)
    call_command("verify_history")
