from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("projects", "0006_rechain_history")]

    operations = [
        migrations.AlterField(
            model_name="projecthistory",
            name="global_seq",
            field=models.BigIntegerField(unique=True, verbose_name="全局序号"),
        ),
        migrations.AlterField(
            model_name="projecthistory",
            name="key_id",
            field=models.CharField(max_length=20, verbose_name="密钥编号"),
        ),
    ]
