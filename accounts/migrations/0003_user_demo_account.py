from django.db import migrations, models

# The demo accounts that earlier versions of demo_data created (before the mark existed):
# their demo username together with the demo e-mail address <username>@example.org.
DEMO_USERNAMES = [
    "leader1",
    "leader2",
    "finance1",
    "finance2",
    "auditor1",
    "applicant1",
    "reviewer1",
    "applicant2",
    "reviewer2",
    "applicant3",
    "reviewer3",
]


def mark_earlier_demo_accounts(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for username in DEMO_USERNAMES:
        User.objects.filter(username=username, email=f"{username}@example.org").update(
            demo_account=True
        )


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_role_groups"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="demo_account",
            field=models.BooleanField(default=False, editable=False, verbose_name="演示账号"),
        ),
        migrations.RunPython(mark_earlier_demo_accounts, migrations.RunPython.noop),
    ]
