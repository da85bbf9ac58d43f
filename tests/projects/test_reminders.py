"""send_reminders: each person gets what they owe, once a day for the same thing."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from projects.models import Project, Reminder
from projects.services import apply_transition
from projects.services.change_requests import change_request_submit
from projects.services.reports import problem_report_submit
from tests.projects.fixtures_running import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_emails(applicant, reviewer, leader, leader2, outsider):
    for user in (applicant, reviewer, leader, leader2, outsider):
        User.objects.filter(pk=user.pk).update(email=f"{user.username}@example.org")


def run() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def by_recipient():
    return {m.to[0].split("@")[0]: m for m in mail.outbox}


def test_each_person_gets_what_they_owe(
    with_emails, in_progress, draft, applicant, reviewer, leader, org_a
):
    # A month already over without a report (the project started three months ago).
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=70)
    Project.objects.filter(pk=in_progress.pk).update(start_date=start)
    # A first review past its deadline.
    from tests.factories import ProjectFactory

    late = ProjectFactory(organization=org_a, leader=applicant, title="逾期初审项目")
    from tests.factories import BudgetLineFactory

    BudgetLineFactory(project=late)
    apply_transition(late, "submit", actor=applicant)
    Project.objects.filter(pk=late.pk).update(
        first_review_deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    change_request_submit(
        project=in_progress, actor=applicant, kind="content", reason="r", new_content="c"
    )
    problem_report_submit(project=in_progress, actor=applicant, description="场地")

    output = run()
    mails = by_recipient()
    assert set(mails) == {"alice", "bob"}
    assert "进展报告未提交" in mails["alice"].body
    assert "逾期初审" in mails["bob"].body and "变更申请待处理" in mails["bob"].body
    assert "问题上报待处理" in mails["bob"].body
    assert "已提醒" in output and "alice@example.org" in output
    assert "charlie" not in mails  # the other organisation's reviewer owes nothing


def test_leadership_gets_acceptances_and_endorsed_changes(
    with_emails, in_acceptance, leader, leader2
):
    run()
    mails = by_recipient()
    assert "待验收" in mails["dora"].body and "待验收" in mails["dan"].body


def test_not_twice_on_the_same_day(with_emails, in_acceptance):
    run()
    assert len(mail.outbox) == 2
    count = Reminder.objects.count()
    output = run()
    assert len(mail.outbox) == 2
    assert Reminder.objects.count() == count
    assert "共发送 0 封" in output


def test_again_on_the_next_day(with_emails, in_acceptance):
    from projects.reminders import send_reminders

    send_reminders(datetime.date(2026, 5, 1))
    send_reminders(datetime.date(2026, 5, 1))
    assert len(mail.outbox) == 2
    send_reminders(datetime.date(2026, 5, 2))
    assert len(mail.outbox) == 4


def test_new_item_same_day_is_sent(with_emails, in_progress, applicant, reviewer):
    run()
    assert "bob" not in by_recipient()
    change_request_submit(
        project=in_progress, actor=applicant, kind="content", reason="r", new_content="c"
    )
    run()
    assert "变更申请待处理" in by_recipient()["bob"].body


def test_user_without_email_is_reported(in_acceptance, leader):
    output = run()
    assert "没有电子邮箱" in output
    assert not mail.outbox


def test_nothing_owed_on_terminated_projects(with_emails, in_progress, applicant, leader):
    change_request_submit(
        project=in_progress, actor=applicant, kind="content", reason="r", new_content="c"
    )
    problem_report_submit(project=in_progress, actor=applicant, description="场地")
    apply_transition(in_progress, "terminate", actor=leader, opinion="终止")
    run()
    assert not mail.outbox


# --- hole 10: a failed mail is not marked as sent and does not stop the others ------------


@pytest.fixture
def refusing(settings):
    from tests.projects.mail_backends import RefusingOneAddressBackend

    settings.EMAIL_BACKEND = "tests.projects.mail_backends.RefusingOneAddressBackend"
    RefusingOneAddressBackend.refused = set()
    RefusingOneAddressBackend.attempts = []
    RefusingOneAddressBackend.delay = 0.0
    yield RefusingOneAddressBackend
    RefusingOneAddressBackend.refused = set()
    RefusingOneAddressBackend.delay = 0.0


def test_one_refused_address_does_not_stop_the_rest_and_is_sent_next_time(
    with_emails, in_acceptance, leader, leader2, refusing
):
    from django.core.management.base import CommandError

    from projects.reminders import collect

    leader.refresh_from_db()
    leader2.refresh_from_db()
    # Refuse whoever comes first, so that someone is left after the failure.
    first = next(user for user in collect(timezone.localdate()) if user.email)
    other = leader2 if first == leader else leader
    refusing.refused = {first.email}
    out = StringIO()
    with pytest.raises(CommandError) as err:
        call_command("send_reminders", stdout=out)
    message = str(err.value)
    assert "1 封提醒邮件发送失败" in message and first.email in message
    assert "下次运行时重发" in message
    # The one after the failure got the mail; the refused one is not marked as reminded.
    assert [m.to for m in mail.outbox] == [[other.email]]
    assert "发送失败" in out.getvalue() and f"已提醒 {other.display_name}" in out.getvalue()
    assert not Reminder.objects.filter(recipient=first).exists()
    assert Reminder.objects.filter(recipient=other).exists()
    assert refusing.attempts[0] == first.email

    # The server accepts the address again: the next run sends what was owed, and only that.
    refusing.refused = set()
    output = run()
    assert [m.to for m in mail.outbox] == [[other.email], [first.email]]
    assert "待验收" in mail.outbox[1].body
    assert "共发送 1 封" in output
    assert Reminder.objects.filter(recipient=first).exists()


def test_mail_shows_dates_in_chinese_beijing_form(with_emails, in_progress, applicant):
    start = timezone.localdate().replace(day=1) - datetime.timedelta(days=70)
    Project.objects.filter(pk=in_progress.pk).update(start_date=start)
    run()
    body = by_recipient()["alice"].body
    month = start.replace(day=1)
    assert f"{month.year}年{month.month}月进展报告未提交" in body
    today = timezone.localdate()
    assert f"截至 {today.year}年{today.month}月{today.day}日" in body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_runs_send_each_reminder_once(with_emails, in_acceptance, refusing):
    """The marks are written before the send and committed after it: a second run started
    meanwhile waits on them, then skips what the first one sent."""
    from projects.reminders import send_reminders
    from tests.projects.test_money_concurrency import race

    refusing.delay = 0.3
    mail.outbox.clear()  # the workflow's own notifications (sent on commit here)
    today = timezone.localdate()
    runs = race(lambda _i: send_reminders(today), count=4)
    assert all(not isinstance(run, Exception) for run in runs), runs
    assert sorted(address for m in mail.outbox for address in m.to) == [
        "dan@example.org",
        "dora@example.org",
    ], [(m.to, m.body) for m in mail.outbox]
    assert sum(len(run.failed) for run in runs) == 0
