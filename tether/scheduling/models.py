"""Appointments and group sessions, and who attended them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from tether.organizations.models import Organization, Program, StaffMember
from tether.patients.models import Episode, Patient


class GroupSeries(models.Model):
    """A group that meets on a recurring schedule: its days and time, room or video link,
    facilitator and roster. Its occurrences are ``Appointment`` rows made when the series
    is created; changing the series later only touches occurrences still to come."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="group_series")
    title = models.CharField(_("name of the group"), max_length=200)
    # Weekdays as digits, Monday = 0 ("024" = Monday, Wednesday, Friday).
    weekdays = models.CharField(_("days"), max_length=7)
    starts_at_time = models.TimeField(_("starts at"))
    minutes = models.PositiveSmallIntegerField(_("length in minutes"))
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    facilitator = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="group_series"
    )
    location = models.CharField(_("room"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the group was ended early (``series_end``): meetings after it are cancelled.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="group_series_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="group_series_has_length"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (group #{self.pk})"


class RosterEntry(models.Model):
    """A patient on a group's roster, from the day they joined until they left."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    series = models.ForeignKey(GroupSeries, on_delete=models.CASCADE, related_name="roster")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["series", "patient"],
                condition=Q(removed_at__isnull=True),
                name="roster_entry_once_per_series",
            ),
        ]

    def __str__(self) -> str:
        return f"roster entry #{self.pk}"


class Appointment(models.Model):
    class Kind(models.TextChoices):
        GROUP = "group", _("Group session")
        INDIVIDUAL = "individual", _("Individual session")
        FAMILY = "family", _("Family session")
        PSYCHIATRY = "psychiatry", _("Medication visit")

    class CancelReason(models.TextChoices):
        FACILITATOR_UNAVAILABLE = "facilitator", _("The clinician is not available")
        PROGRAM_CLOSED = "closed", _("The program is closed")
        PATIENT_REQUEST = "patient_request", _("At the patient's request")
        WEATHER = "weather", _("Weather or emergency")
        OTHER = "other", _("Another reason")
        GROUP_ENDED = "group_ended", _("The group has ended")

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
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    series = models.ForeignKey(
        GroupSeries,
        on_delete=models.PROTECT,
        related_name="occurrences",
        null=True,
        blank=True,
    )
    is_cancelled = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(
        _("why it is cancelled"), max_length=24, choices=CancelReason.choices, blank=True
    )
    # Set when the time, room or link changed after patients were told: they see "changed".
    changed_at = models.DateTimeField(null=True, blank=True)
    # The identifier another system (an EHR, over FHIR) gave this session: system + value.
    # An Appointment sent twice with the same identifier is stored once.
    external_system = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["organization", "external_system", "external_id"],
                condition=~Q(external_id=""),
                name="appointment_external_identifier_once",
            ),
        ]
        indexes = [models.Index(fields=["organization", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saved with its attendances' copies of its start (``Attendance.starts_at``) in
        step, in one transaction: a moved session (``session_change``, an update from
        another system) is every patient's next session at its new time at once. (A
        ``QuerySet.update`` of ``starts_at`` would bypass this: there is none.)"""
        adding = self._state.adding
        update_fields = kwargs.get("update_fields")
        with transaction.atomic():
            super().save(*args, **kwargs)
            if not adding and (update_fields is None or "starts_at" in update_fields):
                self.attendances.exclude(starts_at=self.starts_at).update(starts_at=self.starts_at)


def _held_starts(appointment_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """The appointments' starts as committed, each appointment row held (``FOR NO KEY
    UPDATE``) until the caller's transaction ends.

    Without the hold, a session moved between the moment a new attendance read its
    session's start and the moment it was inserted would leave that one row with the old
    time: the move's ``Appointment.save`` updates only the attendances it can see, and an
    uncommitted one it cannot. With it, the move and the insert take turns on the
    appointment row: a move committed first is read here; a move that comes second waits
    for this transaction and then updates the new row too. Rows are taken in key order so
    that two writers holding several appointments never wait on each other in a circle.
    (SQLite has no row locks and writes one transaction at a time.)"""
    ids = sorted(set(appointment_ids))
    starts: dict[int, dt.datetime] = {}
    for first in range(0, len(ids), 500):
        starts.update(
            Appointment.objects.select_for_update(no_key=True)
            .filter(pk__in=ids[first : first + 500])
            .order_by("pk")
            .values_list("pk", "starts_at")
        )
    return starts


class AttendanceQuerySet(models.QuerySet["Attendance"]):
    def bulk_create(
        self, objs: Iterable[Attendance], *args: Any, **kwargs: Any
    ) -> list[Attendance]:
        """Each row with its copy of the appointment's start (``Attendance.starts_at``),
        read under the appointment's row lock (``_held_starts``)."""
        rows = list(objs)
        missing = [row for row in rows if row.starts_at is None]
        if not missing:
            return super().bulk_create(rows, *args, **kwargs)
        with transaction.atomic(using=self.db):
            starts = _held_starts(row.appointment_id for row in missing)
            for row in missing:
                row.starts_at = starts[row.appointment_id]
            return super().bulk_create(rows, *args, **kwargs)


class Attendance(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        ATTENDED = "attended", _("Attended")
        LATE = "late", _("Attended, late")
        LEFT_EARLY = "left_early", _("Attended, left early")
        ABSENT = "absent", _("Did not attend")
        EXCUSED = "excused", _("Excused absence")

    class AbsenceReason(models.TextChoices):
        """Codes, not free text: the reason is clinical context, kept short and countable."""

        ILLNESS = "illness", _("Ill")
        TRANSPORT = "transport", _("No transport")
        WORK_SCHOOL = "work_school", _("Work or school")
        FAMILY = "family", _("Family matter")
        NO_CONTACT = "no_contact", _("No word from them")
        OTHER = "other", _("Other")

    ATTENDED_STATUSES = frozenset({Status.ATTENDED, Status.LATE, Status.LEFT_EARLY})
    ABSENT_STATUSES = frozenset({Status.ABSENT, Status.EXCUSED})

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
    absence_reason = models.CharField(
        _("reason"), max_length=16, choices=AbsenceReason.choices, blank=True
    )
    # A copy of the appointment's start, so that "this patient's next session" (the
    # caseload board, the patient list, the patient's home) is read from the index
    # (patient, starts_at) instead of probing the patient's whole history of sessions,
    # which grows every week. Filled when the row is made (``save``, ``bulk_create``)
    # and kept in step by ``Appointment.save``.
    starts_at = models.DateTimeField(editable=False)

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "patient"], name="attendance_once_per_appointment"
            ),
            models.CheckConstraint(
                condition=Q(absence_reason="") | Q(status__in=["absent", "excused"]),
                name="attendance_reason_only_when_absent",
            ),
        ]
        indexes = [models.Index(fields=["patient", "starts_at"], name="attendance_patient_starts")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} (attendance #{self.pk})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.starts_at is not None:
            super().save(*args, **kwargs)
            return
        with transaction.atomic():
            self.starts_at = _held_starts([self.appointment_id])[self.appointment_id]
            super().save(*args, **kwargs)
