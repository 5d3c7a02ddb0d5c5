"""Appointments and group sessions, and who attended them."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from tether.organizations.models import Organization, Program, StaffMember
from tether.patients.models import Episode, Patient


class Appointment(models.Model):
    class Kind(models.TextChoices):
        GROUP = "group", _("Group session")
        INDIVIDUAL = "individual", _("Individual session")
        FAMILY = "family", _("Family session")
        PSYCHIATRY = "psychiatry", _("Medication visit")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="appointments")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    clinician = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="appointments", null=True, blank=True
    )
    location = models.CharField(_("where"), max_length=200, blank=True)
    is_cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["organization", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_at:%Y-%m-%d %H:%M}"


class Attendance(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        ATTENDED = "attended", _("Attended")
        LATE = "late", _("Attended, late")
        ABSENT = "absent", _("Did not attend")
        EXCUSED = "excused", _("Excused absence")

    ATTENDED_STATUSES = frozenset({Status.ATTENDED, Status.LATE})

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="attendances"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="attendances")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="attendances")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    recorded_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "patient"], name="attendance_once_per_appointment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} (attendance #{self.pk})"
