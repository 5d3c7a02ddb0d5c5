"""Reads for the schedule. Lists of patients are narrowed by a queryset from the gate
(``visible``); every function costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from tether.organizations.models import Program
from tether.patients.models import Patient
from tether.scheduling.models import Appointment, Attendance, GroupSeries, RosterEntry


@dataclass(frozen=True)
class WeekSession:
    appointment: Appointment
    local_day: dt.date
    booked: int


def week_for(*, program: Program, monday: dt.date) -> list[WeekSession]:
    """The program's sessions in the week from ``monday`` (program time), with how many
    people are booked on each: one query."""
    tz = program.tzinfo
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min, tzinfo=tz)
    appointments = (
        Appointment.objects.filter(program=program, starts_at__gte=start, starts_at__lt=end)
        .select_related("clinician__user")
        .annotate(booked=Count("attendances"))
        .order_by("starts_at", "pk")
    )
    return [
        WeekSession(
            appointment=a,
            local_day=a.starts_at.astimezone(tz).date(),
            booked=a.booked,
        )
        for a in appointments
    ]


def roster_for(*, series: GroupSeries, visible: QuerySet[Patient]) -> list[RosterEntry]:
    return list(
        RosterEntry.objects.filter(
            series=series, removed_at__isnull=True, patient__in=visible.values("pk")
        )
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name", "pk")
    )


def upcoming_occurrences(*, series: GroupSeries, limit: int = 10) -> list[Appointment]:
    return list(
        series.occurrences.filter(starts_at__gt=timezone.now()).order_by("starts_at")[:limit]
    )


def attendance_for(*, appointment: Appointment, visible: QuerySet[Patient]) -> list[Attendance]:
    return list(
        Attendance.objects.filter(appointment=appointment, patient__in=visible.values("pk"))
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name", "pk")
    )


def sessions_ahead(*, patient: Patient, limit: int = 20) -> list[Attendance]:
    """The patient's sessions still to come, cancelled ones included (marked), so a
    cancellation is seen, not silently gone."""
    return list(
        Attendance.objects.filter(patient=patient, appointment__ends_at__gt=timezone.now())
        .select_related("appointment", "appointment__clinician__user")
        .order_by("appointment__starts_at")[:limit]
    )


def sessions_behind(*, patient: Patient, limit: int = 10) -> list[Attendance]:
    return list(
        Attendance.objects.filter(
            patient=patient,
            appointment__starts_at__lt=timezone.now(),
            appointment__is_cancelled=False,
        )
        .select_related("appointment")
        .order_by("-appointment__starts_at")[:limit]
    )
