"""A family thread next to the patient's own, and a record category on every message.

Existing messages are labelled as ``tether.messaging.services.category_for`` labels new
ones (all existing threads are patient threads): Part 2 when the patient has an active
episode in a program that treats substance use, otherwise ``shared``.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def label_existing(apps, schema_editor):
    Message = apps.get_model("messaging", "Message")
    Episode = apps.get_model("patients", "Episode")
    part2_patients = Episode.objects.filter(
        status="active", program__treats_substance_use=True
    ).values("patient_id")
    Message.objects.filter(thread__patient_id__in=part2_patients).update(record_category="part2")


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0001_initial"),
        ("messaging", "0001_initial"),
        ("organizations", "0002_program_escalation_contact_and_more"),
        ("patients", "0002_proxy_scopes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
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
        migrations.RunPython(label_existing, migrations.RunPython.noop),
        migrations.AddField(
            model_name="thread",
            name="kind",
            field=models.CharField(
                choices=[("patient", "Patient and care team"), ("family", "Family and care team")],
                default="patient",
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="author_kind",
            field=models.CharField(
                choices=[
                    ("patient", "Patient"),
                    ("proxy", "Family member"),
                    ("staff", "Care team"),
                    ("system", "Automatic reply"),
                ],
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="thread",
            name="patient",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="message_threads",
                to="patients.patient",
            ),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.CheckConstraint(
                condition=models.Q(("record_category__in", ["shared", "general", "part2"])),
                name="message_is_labelled",
            ),
        ),
        migrations.AddConstraint(
            model_name="thread",
            constraint=models.UniqueConstraint(
                fields=("patient", "kind"), name="thread_one_per_kind"
            ),
        ),
    ]
