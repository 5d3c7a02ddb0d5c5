"""Each attendance row carries a copy of its appointment's start (``Attendance.starts_at``,
kept in step by ``Appointment.save``) and an index (patient, starts_at): a patient's next
session is then read from the index instead of probing their whole history of sessions
(docs/BENCHMARKS.md, "Pages, sixth pass").

The copy is filled from the appointments in one statement, then made required. On
PostgreSQL the migration holds the attendance table for the fill and the index build
(28 s at 780,000 rows on the two-core development machine, other work running); run it
in a quiet hour on a large program."""

from django.db import migrations, models

FILL = (
    "UPDATE scheduling_attendance SET starts_at = ("
    "SELECT a.starts_at FROM scheduling_appointment a "
    "WHERE a.id = scheduling_attendance.appointment_id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0004_appointment_external_identifier"),
    ]

    operations = [
        migrations.AddField(
            model_name="attendance",
            name="starts_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="attendance",
            name="starts_at",
            field=models.DateTimeField(editable=False),
        ),
        migrations.AddIndex(
            model_name="attendance",
            index=models.Index(fields=["patient", "starts_at"], name="attendance_patient_starts"),
        ),
    ]
