"""Family-therapy assignments, and a record category on every assignment and answer set.

Existing rows are labelled as the services label new ones: Part 2 when the patient has
an active episode in a program that treats substance use, otherwise ``shared`` for
assignments and ``self_report`` for answers (no existing assignment is for the family).
"""

from django.conf import settings
from django.db import migrations, models


def label_existing(apps, schema_editor):
    Assignment = apps.get_model("homework", "Assignment")
    HomeworkAnswers = apps.get_model("homework", "HomeworkAnswers")
    Episode = apps.get_model("patients", "Episode")
    part2_patients = Episode.objects.filter(
        status="active", program__treats_substance_use=True
    ).values("patient_id")
    Assignment.objects.filter(patient_id__in=part2_patients).update(record_category="part2")
    HomeworkAnswers.objects.filter(assignment__patient_id__in=part2_patients).update(
        record_category="part2"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("homework", "0001_initial"),
        ("organizations", "0002_program_escalation_contact_and_more"),
        ("patients", "0002_proxy_scopes"),
        ("scheduling", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="for_family",
            field=models.BooleanField(default=False, verbose_name="for the family"),
        ),
        migrations.AddField(
            model_name="assignment",
            name="record_category",
            field=models.CharField(
                choices=[
                    ("shared", "Written with the care team (safety plan, homework, messages)"),
                    ("general", "General (appointments, attendance, resources)"),
                    ("part2", "Substance-use record (42 CFR Part 2)"),
                ],
                default="shared",
                max_length=32,
                verbose_name="record category",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="homeworkanswers",
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
            model_name="assignment",
            constraint=models.CheckConstraint(
                condition=models.Q(("record_category__in", ["shared", "general", "part2"])),
                name="homework_assignment_is_labelled",
            ),
        ),
        migrations.AddConstraint(
            model_name="homeworkanswers",
            constraint=models.CheckConstraint(
                condition=models.Q(("record_category__in", ["self_report", "part2"])),
                name="homework_answers_are_labelled",
            ),
        ),
    ]
