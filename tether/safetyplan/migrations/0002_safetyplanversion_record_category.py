"""Label every safety-plan version with its record category.

Existing versions are labelled as ``tether.privacy.gate.record_category_for`` labels
new ones: Part 2 when the patient has an active episode in a program that treats
substance use (42 CFR Part 2), otherwise ``shared`` (written with the care team).
"""

from django.db import migrations, models


def label_existing(apps, schema_editor):
    SafetyPlanVersion = apps.get_model("safetyplan", "SafetyPlanVersion")
    Episode = apps.get_model("patients", "Episode")
    part2_patients = Episode.objects.filter(
        status="active", program__treats_substance_use=True
    ).values("patient_id")
    SafetyPlanVersion.objects.filter(plan__patient_id__in=part2_patients).update(
        record_category="part2"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("safetyplan", "0001_initial"),
        ("patients", "0001_initial"),
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="safetyplanversion",
            name="record_category",
            field=models.CharField(
                choices=[
                    ("shared", "Written with the care team (safety plan, homework, messages)"),
                    ("part2", "Substance-use record (42 CFR Part 2)"),
                ],
                default="shared",
                max_length=32,
                verbose_name="record category",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(label_existing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="safetyplanversion",
            constraint=models.CheckConstraint(
                condition=models.Q(record_category__in=["shared", "part2"]),
                name="safetyplan_version_is_labelled",
            ),
        ),
    ]
