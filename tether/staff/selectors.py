"""Reads for the staff area. Patients always come from the privacy gate."""

from __future__ import annotations

import datetime as dt

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import CharField, Count, F, Func, OuterRef, QuerySet, Subquery
from django.utils import timezone

from tether.accounts.models import User
from tether.lib import statements
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, Patient
from tether.privacy.gate import kept_visible
from tether.privacy.policy import Category
from tether.scheduling.models import Attendance


class PatientList:
    """The patients this staff member may see, with what the list shows, for Django's
    ``Paginator``: its count and each page it slices are one statement each, compiled
    once per process and shape of user (``tether.lib.statements``: the gate's
    ``kept_visible`` on the patients themselves), the user's values bound. Built from the
    queryset every time, Django compiled the page's statement on every request, and
    PostgreSQL planned its six subqueries in ~2 ms for a front desk at 10,000 patients
    (four now: ``_with_columns``; docs/BENCHMARKS.md, "Pages, thirteenth pass")."""

    def __init__(self, user: User, *, category: Category = Category.GENERAL) -> None:
        self._visible = kept_visible(user, category=category, field=None)

    def count(self) -> int:
        visible = self._visible
        if visible is None:
            return 0
        found = statements.rows(
            ("staff.patient_list.count", visible.key),
            lambda values: (
                Patient.objects.filter(visible.condition(values))
                .order_by()
                .values("organization_id")  # the user's: one group, or none
                .annotate(patients=Count("pk"))
                .values_list("patients")
            ),
            visible.values,
            # Planned with its values, as before: a plan made without them was no faster
            # (a lead's count 5.9-8.0 ms against 5.9, EXPLAIN ANALYZE).
            server_bound=False,
        )
        return found[0][0] if found else 0

    def __getitem__(self, window: slice) -> list[Patient]:
        visible = self._visible
        if visible is None:
            return []
        paired = connection.vendor == "postgresql"
        patients = statements.instances(
            ("staff.patient_list.page", visible.key),
            Patient,
            lambda values: _with_columns(
                Patient.objects.filter(visible.condition(values)),
                now=values["now"],
                paired=paired,
            ),
            {**visible.values, "now": timezone.now()},
            window=(window.start or 0, window.stop),
            # Planned for its page: the first pages read the patients in name order and
            # stop at the page's end (2.8 ms at 10,000 patients); a plan made without the
            # offset sorted the whole program for each page (6-8 ms).
            server_bound=False,
        )
        for patient in patients:
            _unpair(patient)
        return patients


def _with_columns(
    patients: QuerySet[Patient], *, now: dt.datetime, paired: bool = False
) -> QuerySet[Patient]:
    """The list's columns on ``patients``, in its order. ``paired`` (PostgreSQL): the
    active episode's program and level of care read as one array, the primary
    therapist's first and last names as another (``_unpair``): two subqueries fewer to
    plan for every page."""
    active = Episode.objects.filter(patient=OuterRef("pk"), status=Episode.Status.ACTIVE)
    # From the index (patient, starts_at): not the patient's whole history of sessions.
    next_session = Attendance.objects.filter(
        patient=OuterRef("pk"),
        starts_at__gte=now,
        appointment__is_cancelled=False,
    ).order_by("starts_at")
    primary = CareTeamMember.objects.filter(
        episode__patient=OuterRef("pk"),
        episode__status=Episode.Status.ACTIVE,
        role=CareTeamMember.Role.PRIMARY_THERAPIST,
        ended_on__isnull=True,
    )
    pairs = {
        "program": (active, ("program__name", "level_of_care")),
        "primary": (primary, ("staff_member__user__first_name", "staff_member__user__last_name")),
    }
    columns: dict[str, Subquery] = {}
    for name, (rows, fields) in pairs.items():
        if paired:
            both = rows.annotate(pair=_text_array(*fields)).values("pair")[:1]
            columns[name] = Subquery(both, output_field=ArrayField(CharField()))
        else:
            for field, column in zip(fields, _PAIRED[name], strict=True):
                columns[column] = Subquery(rows.values(field)[:1])
    return (
        patients.annotate(
            **columns,
            next_session_at=Subquery(next_session.values("starts_at")[:1]),
            last_login=Subquery(
                User.objects.filter(pk=OuterRef("user_id")).values("last_login")[:1]
            ),
        )
        # (The id last: pages cut by LIMIT and OFFSET need one order for equal names.)
        .order_by("last_name", "first_name", "pk")
    )


# The list's columns that ``_with_columns(paired=True)`` reads together.
_PAIRED = {
    "program": ("program_name", "level_of_care"),
    "primary": ("primary_first", "primary_last"),
}


def _text_array(*fields: str) -> Func:
    return Func(
        *(F(field) for field in fields),
        function="ARRAY",
        template="%(function)s[%(expressions)s]",
        output_field=ArrayField(CharField()),
    )


def _unpair(patient: Patient) -> None:
    """The single columns of a row read with ``_with_columns(paired=True)``."""
    for name, columns in _PAIRED.items():
        if hasattr(patient, name):
            values = getattr(patient, name) or [None] * len(columns)
            for column, value in zip(columns, values, strict=True):
                setattr(patient, column, value)


def patient_overview(*, patient: Patient) -> dict[str, object]:
    episodes = list(
        Episode.objects.filter(patient=patient)
        .select_related("program")
        .prefetch_related("care_team__staff_member__user", "level_changes")
        .order_by("-admitted_on")
    )
    # The next few sessions and the last ten, each from the index (patient, starts_at):
    # a month of booked sessions must not push the ones just attended off the page.
    now = timezone.now()
    sessions = Attendance.objects.filter(patient=patient).select_related("appointment")
    upcoming = list(sessions.filter(starts_at__gte=now).order_by("starts_at")[:5])
    attendance = list(sessions.filter(starts_at__lt=now).order_by("-starts_at")[:10])
    return {"episodes": episodes, "upcoming": upcoming, "attendance": attendance}


def programs_for_intake(*, staff: StaffMember) -> QuerySet[Program]:
    return staff.programs.filter(is_active=True).order_by("name")


def clinicians_for_intake(*, staff: StaffMember) -> QuerySet[StaffMember]:
    return (
        StaffMember.objects.filter(
            organization_id=staff.organization_id,
            is_active=True,
            role__in=[StaffMember.Role.CLINICIAN, StaffMember.Role.CLINICAL_LEAD],
        )
        .select_related("user")
        .order_by("user__last_name")
    )
