"""Label every check-in and measure response with its record category.

Existing rows are labelled from their episode's program, exactly as
``tether.privacy.gate.record_category_for`` labels new ones at capture: in a program
that treats substance use (42 CFR Part 2) a response is a Part 2 record, elsewhere a
self-report.
"""

from django.db import migrations, models


def label_existing(apps, schema_editor):
    Response = apps.get_model("checkins", "Response")
    Response.objects.filter(episode__program__treats_substance_use=True).update(
        record_category="part2"
    )
    Response.objects.filter(episode__program__treats_substance_use=False).update(
        record_category="self_report"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("checkins", "0002_load_instruments"),
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="response",
            name="record_category",
            field=models.CharField(
                choices=[
                    ("self_report", "Patient self-report (check-ins, measures, homework)"),
                    ("part2", "Substance-use record (42 CFR Part 2)"),
                ],
                default="self_report",
                max_length=32,
                verbose_name="record category",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(label_existing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="response",
            constraint=models.CheckConstraint(
                condition=models.Q(record_category__in=["self_report", "part2"]),
                name="response_is_labelled",
            ),
        ),
    ]
