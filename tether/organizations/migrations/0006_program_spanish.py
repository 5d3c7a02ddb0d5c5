# Issue 19: whether Spanish is spoken on the program's crisis line.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0005_on_call_rota"),
    ]

    operations = [
        migrations.AddField(
            model_name="program",
            name="spanish_spoken",
            field=models.BooleanField(
                default=False,
                help_text="Tick only if a Spanish speaker calling the crisis line is understood.",
                verbose_name="Spanish spoken on the crisis line",
            ),
        ),
    ]
