# Issue 19: whether Spanish is spoken on the program's crisis line.
# Named 0007 as the issue asks; it follows 0005 here (a sibling branch may add a 0006:
# then make this one depend on it).

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
