"""Reads for the staff area. Patients always come from the privacy gate."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from tether.accounts.models import User
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, Patient
from tether.privacy.gate import patients_visible_to
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Attendance


def patient_list_for(*, user: User) -> QuerySet[Patient]:
    """The patients this staff member may see, with what the list shows, in a fixed
    number of queries whatever the caseload."""
    active = Episode.objects.filter(patient=OuterRef("pk"), status=Episode.Status.ACTIVE)
    # From the index (patient, starts_at): not the patient's whole history of sessions.
    next_session = Attendance.objects.filter(
        patient=OuterRef("pk"),
        starts_at__gte=timezone.now(),
        appointment__is_cancelled=False,
    ).order_by("starts_at")
    primary = CareTeamMember.objects.filter(
        episode__patient=OuterRef("pk"),
        episode__status=Episode.Status.ACTIVE,
        role=CareTeamMember.Role.PRIMARY_THERAPIST,
        ended_on__isnull=True,
    )
    return (
        patients_visible_to(user, category=Category.GENERAL, action=Action.VIEW)
        .annotate(
            program_name=Subquery(active.values("program__name")[:1]),
            level_of_care=Subquery(active.values("level_of_care")[:1]),
            next_session_at=Subquery(next_session.values("starts_at")[:1]),
            primary_first=Subquery(primary.values("staff_member__user__first_name")[:1]),
            primary_last=Subquery(primary.values("staff_member__user__last_name")[:1]),
            last_login=Subquery(
                User.objects.filter(pk=OuterRef("user_id")).values("last_login")[:1]
            ),
        )
        .order_by("last_name", "first_name")
    )


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
