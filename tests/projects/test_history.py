"""The event log cannot be quietly changed (issue 10, hole 3).

One HMAC chain runs across the whole system; `history_checkpoint` writes its head to a file
kept outside the database, and `verify_history --checkpoint` names the row when anything
recorded up to it was altered, removed or reordered. It also compares each project's state
and money with what its last event recorded.
"""

import hashlib
import json

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command

from projects.models import HistoryHead, Project, ProjectHistory, Review
from projects.services import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkpoint_file(tmp_path):
    def write():
        path = tmp_path / "checkpoint.json"
        call_command("history_checkpoint", out=str(path))
        return str(path)

    return write


def verify_fails(capsys, **options) -> str:
    with pytest.raises(CommandError):
        call_command("verify_history", **options)
    return capsys.readouterr().err


def test_clean_chain_passes(approved, capsys, checkpoint_file):
    path = checkpoint_file()
    call_command("verify_history", checkpoint=path)
    out = capsys.readouterr().out
    assert "审批历史完整:核验 3 条记录" in out and "至检查点第 3 条无改动" in out


def test_checkpoint_file_holds_the_head(approved, checkpoint_file):
    with open(checkpoint_file(), encoding="utf-8") as handle:
        head = json.load(handle)
    last = ProjectHistory.objects.order_by("global_seq").last()
    assert head["global_seq"] == last.global_seq == 3
    assert head["digest"] == last.digest and head["row_count"] == 3
    assert head["created_at"].endswith("+08:00")  # Beijing time, as a person reads it


def test_rows_are_chained_across_the_system(approved, draft, applicant, org_a, policy):
    other = events.record(actor=applicant, action="note", subject="经费政策:测试")
    rows = list(ProjectHistory.objects.order_by("global_seq"))
    assert [row.global_seq for row in rows] == [1, 2, 3, 4]
    assert rows[0].prev_digest == ""
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_digest == before.digest
    assert other.project is None and other.seq is None
    assert HistoryHead.objects.get().digest == other.digest


def test_edited_row_is_caught(approved, capsys, checkpoint_file):
    path = checkpoint_file()
    ProjectHistory.objects.filter(project=approved, seq=2).update(opinion="改过的意见")
    err = verify_fails(capsys, checkpoint=path)
    assert f"(第 2 条记录,项目 {approved.code} 第 2 条)内容与签名不符" in err


def test_edited_amount_with_recomputed_unkeyed_digest_is_caught(approved, capsys):
    # Someone with database access recomputes a correct plain SHA-256 over the row's own
    # canonical content: without the key it is still not the row's HMAC.
    row = ProjectHistory.objects.get(project=approved, seq=3)
    row.data = {**row.data, "approved_amount": "30000.00"}
    forged = hashlib.sha256(events._canonical(row)).hexdigest()
    ProjectHistory.objects.filter(pk=row.pk).update(data=row.data, digest=forged)
    assert "第 3 条记录" in verify_fails(capsys)


def test_row_resigned_with_another_key_is_caught(approved, capsys, settings):
    row = ProjectHistory.objects.get(project=approved, seq=3)
    settings.HISTORY_HMAC_KEY = "a-key-the-attacker-made-up"
    row.opinion = "伪造的意见"
    forged = events.compute_digest(row)
    settings.HISTORY_HMAC_KEY = "dev-only-history-key"
    ProjectHistory.objects.filter(pk=row.pk).update(opinion=row.opinion, digest=forged)
    assert "第 3 条记录" in verify_fails(capsys)


def test_deleted_middle_row_is_caught(approved, capsys, checkpoint_file):
    path = checkpoint_file()
    ProjectHistory.objects.filter(project=approved, seq=2).delete()
    err = verify_fails(capsys, checkpoint=path)
    assert "之前的第 2 条记录缺失(被删除)" in err


def test_deleted_last_row_with_state_rolled_back_is_caught(approved, capsys, checkpoint_file):
    path = checkpoint_file()
    ProjectHistory.objects.filter(project=approved, seq=3).delete()
    Project.objects.filter(pk=approved.pk).update(
        state="leadership_review", grade=None, approved_amount=None, committed_amount=0
    )
    # Even with the chain's head in the database rewritten to match, the checkpoint kept
    # outside the database still holds row 3.
    last = ProjectHistory.objects.order_by("global_seq").last()
    HistoryHead.objects.update(global_seq=last.global_seq, digest=last.digest)
    err = verify_fails(capsys, checkpoint=path)
    assert "第 3 条记录)检查点记录的这条记录已不存在" in err


def test_deleted_non_state_event_is_caught(approved, leader, capsys, checkpoint_file):
    from projects.services.locking import locked_project

    with locked_project(approved) as locked:
        events.record(actor=leader, action="note", project=locked, opinion="不改变状态的记录")
    events.record(actor=leader, action="policy_update", subject="经费政策:2026")
    path = checkpoint_file()
    ProjectHistory.objects.filter(transition="note").delete()
    err = verify_fails(capsys, checkpoint=path)
    assert "之前的第 4 条记录缺失" in err


def test_whole_project_history_deleted_and_set_back_to_draft_is_caught(
    approved, draft, capsys, checkpoint_file
):
    path = checkpoint_file()
    ProjectHistory.objects.filter(project=approved).delete()
    Project.objects.filter(pk=approved.pk).update(
        state="draft", grade=None, approved_amount=None, committed_amount=0
    )
    err = verify_fails(capsys, checkpoint=path)
    assert "检查点记录的这条记录已不存在" in err or "缺失" in err
    assert "检查点" in err


@pytest.mark.parametrize(
    "field,value,label",
    [
        ("approved_amount", "30000.00", "核定金额"),
        ("committed_amount", "0.00", "占用额度"),
        ("settlement_amount", "2000.00", "结算金额"),
    ],
)
def test_money_field_edited_in_the_database_is_caught(approved, capsys, field, value, label):
    Project.objects.filter(pk=approved.pk).update(**{field: value})
    err = verify_fails(capsys)
    assert f"(项目 {approved.code})“{label}”现为 {value}" in err


def test_reordered_rows_are_caught(approved, capsys, checkpoint_file):
    path = checkpoint_file()
    one, two = ProjectHistory.objects.filter(project=approved, seq__in=[1, 2]).order_by("seq")
    ProjectHistory.objects.filter(pk=one.pk).update(global_seq=100)
    ProjectHistory.objects.filter(pk=two.pk).update(global_seq=1)
    ProjectHistory.objects.filter(pk=one.pk).update(global_seq=2)
    err = verify_fails(capsys, checkpoint=path)
    assert "第 1 条记录" in err and "第 2 条记录" in err


def test_key_rotation_keeps_old_rows_verifiable(approved, leader, settings, capsys):
    settings.HISTORY_HMAC_OLD_KEYS = {"k1": settings.HISTORY_HMAC_KEY}
    settings.HISTORY_HMAC_KEY_ID, settings.HISTORY_HMAC_KEY = "k2", "the-new-key"
    events.record(actor=leader, action="note", subject="轮换后")
    assert ProjectHistory.objects.order_by("global_seq").last().key_id == "k2"
    call_command("verify_history")
    settings.HISTORY_HMAC_OLD_KEYS = {}
    assert "签名密钥“k1”未配置" in verify_fails(capsys)


def test_unreadable_checkpoint_is_a_clear_error(approved, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(CommandError, match="无法读取检查点文件"):
        call_command("verify_history", checkpoint=str(path))


@pytest.mark.parametrize("model", [ProjectHistory, Review, HistoryHead])
def test_history_has_no_admin_page(model):
    # Registering one would offer add/change/delete of the signed records.
    assert model not in admin.site._registry


def test_history_shown_read_only_on_change_page(admin_client, approved):
    response = admin_client.get(f"/admin/projects/project/{approved.pk}/change/")
    body = response.content.decode()
    assert "项目历史(不可更改)" in body
    assert "同意立项" in body and "待领导小组复审 → 已立项" in body


def test_demo_data_obeys_the_rules_and_is_idempotent(capsys):
    from projects.models import State

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
