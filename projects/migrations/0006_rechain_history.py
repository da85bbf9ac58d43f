from django.conf import settings
from django.db import migrations
from django.db.models import Max


def _number(code: str) -> int:
    try:
        return int(code.split("-")[1])
    except (IndexError, ValueError):
        return 0


def forwards(apps, schema_editor):
    """Numbers and counters from the existing codes; every project gets a first event;
    the existing rows are re-chained into one system-wide chain, in the order written."""
    from django.utils import timezone

    from projects.services.events import compute_digest

    Project = apps.get_model("projects", "Project")
    History = apps.get_model("projects", "ProjectHistory")
    Head = apps.get_model("projects", "HistoryHead")
    Counter = apps.get_model("projects", "ProjectCodeCounter")
    for project in Project.objects.only("pk", "code").iterator():
        Project.objects.filter(pk=project.pk).update(number=_number(project.code))
    for year, top in Project.objects.values_list("year").annotate(top=Max("number")):
        Counter.objects.create(year=year, last_number=top or 0)
    with_history = set(History.objects.values_list("project_id", flat=True))
    for project in Project.objects.exclude(pk__in=with_history).select_related("leader"):
        leader = project.leader
        History.objects.create(
            project=project,
            seq=1,
            transition="create",
            from_state="",
            to_state=project.state,
            actor=leader,
            actor_name=f"{leader.last_name}{leader.first_name}" or leader.username,
            actor_organization="",
            actor_title=leader.title,
            actor_roles="",
            data={"code": project.code},
            created_at=project.created_at or timezone.now(),
            digest="",
        )
    prev, seq = "", 0
    for row in History.objects.order_by("created_at", "pk").iterator():
        seq += 1
        row.global_seq, row.key_id, row.prev_digest = seq, settings.HISTORY_HMAC_KEY_ID, prev
        row.digest = compute_digest(row)
        row.save(update_fields=["global_seq", "key_id", "prev_digest", "digest"])
        prev = row.digest
    Head.objects.create(pk=1, global_seq=seq, digest=prev)


class Migration(migrations.Migration):
    dependencies = [("projects", "0005_integrity_chain_counters")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
