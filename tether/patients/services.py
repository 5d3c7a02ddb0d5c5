"""Writes about patients: registration at intake; admission, level-of-care changes and
discharge (each with its audit event in the same transaction)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tether.accounts.models import User
from tether.organizations.models import Program, StaffMember
from tether.patients.models import (
    AftercarePlan,
    CareTeamMember,
    Episode,
    LevelOfCare,
    LevelOfCareChange,
    Patient,
)
from tether.privacy import audit
from tether.privacy.gate import record_category_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from django.db.models import Model


def username_suggest(*, first_name: str, last_name: str) -> str:
    """A short username a person can read aloud: first name, initial, two digits."""
    first = re.sub(r"[^a-z0-9]", "", slugify(first_name))[:16] or "patient"
    initial = re.sub(r"[^a-z0-9]", "", slugify(last_name))[:1]
    base = f"{first}.{initial}" if initial else first
    while True:
        candidate = f"{base}{secrets.randbelow(90) + 10}"
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate


@transaction.atomic
def patient_register(
    *,
    registered_by: StaffMember,
    program: Program,
    first_name: str,
    last_name: str,
    preferred_name: str,
    date_of_birth: dt.date,
    record_number: str,
    mobile_phone: str,
    email: str,
    level_of_care: str,
    admitted_on: dt.date,
    primary_therapist: StaffMember | None,
    language: str = "",
) -> Patient:
    """Create the patient, their login (no password yet) and their first episode.
    ``language``: the one they read Tether in ("" lets their phone decide)."""
    if program.organization_id != registered_by.organization_id:
        raise ValueError("Program belongs to another organization.")
    organization = registered_by.organization
    user = User(
        username=username_suggest(first_name=first_name, last_name=last_name),
        first_name=first_name,
        last_name=last_name,
        email=email,
        kind=User.Kind.PATIENT,
        organization=organization,
        language=language,
    )
    user.set_unusable_password()
    user.save()
    patient = Patient.objects.create(
        organization=organization,
        user=user,
        first_name=first_name,
        last_name=last_name,
        preferred_name=preferred_name,
        date_of_birth=date_of_birth,
        record_number=record_number,
        mobile_phone=mobile_phone,
    )
    episode = Episode.objects.create(
        organization=organization,
        patient=patient,
        program=program,
        level_of_care=LevelOfCare(level_of_care),
        admitted_on=admitted_on,
    )
    if primary_therapist is not None:
        CareTeamMember.objects.create(
            organization=organization,
            episode=episode,
            staff_member=primary_therapist,
            role=CareTeamMember.Role.PRIMARY_THERAPIST,
            started_on=admitted_on,
        )
    audit.record(
        request=None,
        actor=registered_by.user,
        patient=patient,
        action=Action.CREATE,
        category=Category.GENERAL,
        purpose=Purpose.OPERATIONS,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=patient,
    )
    return patient


# --- Admission to discharge -------------------------------------------------------------

FINAL_MEASURES = ("phq9", "gad7")


class EpisodeError(ValueError):
    """One or more problems, each a sentence for the person who typed it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _record(
    *,
    user: User,
    patient: Patient,
    action: Action,
    obj: Model,
    category: Category = Category.GENERAL,
) -> None:
    audit.record(
        request=None,
        actor=user,
        patient=patient,
        action=action,
        category=category,
        purpose=Purpose.TREATMENT,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
    )


def _day(day: dt.date) -> str:
    return date_format(day, "DATE_FORMAT")


def _today(program: Program, now: dt.datetime | None) -> dt.date:
    return (now or timezone.now()).astimezone(program.tzinfo).date()


def episode_admit(
    *,
    patient: Patient,
    program: Program,
    level_of_care: str,
    admitted_on: dt.date,
    user: User,
    now: dt.datetime | None = None,
) -> Episode:
    """Admit a patient (again) into a program at a level of care."""
    problems = []
    if Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE).exists():
        problems.append(_("%(name)s is already admitted.") % {"name": patient.display_name})
    last = (
        Episode.objects.filter(patient=patient, discharged_on__isnull=False)
        .order_by("-discharged_on")
        .values_list("discharged_on", flat=True)
        .first()
    )
    if last is not None and admitted_on < last:
        problems.append(
            _("The admission cannot come before the last discharge on %(day)s.")
            % {"day": _day(last)}
        )
    if admitted_on > _today(program, now) + dt.timedelta(days=30):
        problems.append(_("An admission can be recorded at most 30 days ahead."))
    if level_of_care not in LevelOfCare.values:
        problems.append(_("Choose a level of care."))
    if problems:
        raise EpisodeError(problems)
    with transaction.atomic():
        episode = Episode.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            program=program,
            level_of_care=level_of_care,
            admitted_on=admitted_on,
        )
        _record(user=user, patient=patient, action=Action.CREATE, obj=episode)
    return episode


def level_of_care_change(
    *,
    episode: Episode,
    to_level: str,
    changed_on: dt.date,
    reason: str,
    staff: StaffMember,
    user: User,
    now: dt.datetime | None = None,
) -> LevelOfCareChange:
    """Step down or up within an episode, with the day and the reason."""
    problems = []
    if episode.status != Episode.Status.ACTIVE:
        problems.append(_("This episode has ended."))
    if to_level == episode.level_of_care:
        problems.append(
            _("%(name)s is already at this level of care.") % {"name": episode.patient.display_name}
        )
    if to_level not in LevelOfCare.values:
        problems.append(_("Choose a level of care."))
    if reason not in LevelOfCareChange.Reason.values:
        problems.append(_("Choose the reason for the change."))
    if changed_on < episode.admitted_on:
        problems.append(
            _("The change cannot come before the admission on %(day)s.")
            % {"day": _day(episode.admitted_on)}
        )
    last = episode.level_changes.order_by("-changed_on").values_list("changed_on", flat=True)
    if last and changed_on < last[0]:
        problems.append(
            _("The change cannot come before the last change on %(day)s.") % {"day": _day(last[0])}
        )
    if changed_on > _today(episode.program, now):
        problems.append(_("A change of level is recorded on the day it happens, not ahead."))
    if problems:
        raise EpisodeError(problems)
    with transaction.atomic():
        locked = Episode.objects.select_for_update(no_key=True).get(pk=episode.pk)
        change = LevelOfCareChange.objects.create(
            organization_id=episode.organization_id,
            episode=locked,
            from_level=locked.level_of_care,
            to_level=to_level,
            changed_on=changed_on,
            reason=reason,
            recorded_by=staff,
        )
        locked.level_of_care = to_level
        locked.save(update_fields=["level_of_care"])
        _record(user=user, patient=episode.patient, action=Action.CREATE, obj=change)
    episode.level_of_care = to_level
    return change


def episode_discharge(
    *,
    episode: Episode,
    discharged_on: dt.date,
    reason: str,
    next_appointments: str,
    who_to_call: str,
    keeps_safety_plan: bool,
    offer_final_measures: bool,
    staff: StaffMember,
    user: User,
    now: dt.datetime | None = None,
) -> AftercarePlan:
    """End an episode: the reason (planned or not), the aftercare plan, how long the
    patient keeps access (the program's setting), bookings still to come released, and
    the final PHQ-9 and GAD-7 offered as drafts the patient can fill in until then."""
    from tether.checkins.models import Instrument, Response
    from tether.scheduling.models import Attendance, RosterEntry

    now = now or timezone.now()
    program = episode.program
    problems = []
    if episode.status != Episode.Status.ACTIVE:
        problems.append(_("This episode has already ended."))
    if reason not in Episode.OFFERED_ENDINGS:
        problems.append(_("Choose the reason for the discharge."))
    if discharged_on < episode.admitted_on:
        problems.append(
            _("A discharge cannot come before the admission on %(day)s.")
            % {"day": _day(episode.admitted_on)}
        )
    last_change = (
        episode.level_changes.order_by("-changed_on").values_list("changed_on", flat=True).first()
    )
    if last_change is not None and discharged_on < last_change:
        problems.append(
            _("A discharge cannot come before the last change of level on %(day)s.")
            % {"day": _day(last_change)}
        )
    if discharged_on > _today(program, now):
        problems.append(_("A discharge is recorded on the day it happens, not ahead."))
    if problems:
        raise EpisodeError(problems)
    access_until = discharged_on + dt.timedelta(days=program.post_discharge_access_days)
    patient = episode.patient
    with transaction.atomic():
        locked = Episode.objects.select_for_update(no_key=True).get(pk=episode.pk)
        locked.status = Episode.Status.DISCHARGED
        locked.discharged_on = discharged_on
        locked.discharge_reason = reason
        locked.access_until = access_until
        locked.save(update_fields=["status", "discharged_on", "discharge_reason", "access_until"])
        _record(user=user, patient=patient, action=Action.UPDATE, obj=locked)
        RosterEntry.objects.filter(episode=locked, removed_at__isnull=True).update(removed_at=now)
        Attendance.objects.filter(
            episode=locked,
            status=Attendance.Status.SCHEDULED,
            appointment__starts_at__gt=now,
        ).delete()
        category = record_category_for(locked, Category.SHARED)
        plan = AftercarePlan.objects.create(
            organization_id=locked.organization_id,
            episode=locked,
            next_appointments=next_appointments.strip(),
            who_to_call=who_to_call.strip(),
            keeps_safety_plan=keeps_safety_plan,
            final_measures_offered=offer_final_measures,
            record_category=category,
            written_by=staff,
            written_at=now,
        )
        _record(
            user=user, patient=patient, action=Action.CREATE, obj=plan, category=Category(category)
        )
        if offer_final_measures:
            closes = dt.datetime.combine(
                access_until + dt.timedelta(days=1), dt.time.min, tzinfo=program.tzinfo
            )
            for instrument in Instrument.objects.filter(
                code__in=FINAL_MEASURES, is_current=True
            ).order_by("code"):
                response, created = Response.objects.get_or_create(
                    patient=patient,
                    instrument=instrument,
                    window=f"discharge:{locked.pk}",
                    defaults={
                        "organization_id": locked.organization_id,
                        "episode": locked,
                        "record_category": record_category_for(locked, Category.SELF_REPORT),
                        "started_at": now,
                        "expires_at": closes,
                    },
                )
                if created:
                    _record(
                        user=user,
                        patient=patient,
                        action=Action.CREATE,
                        obj=response,
                        category=Category(response.record_category),
                    )
    return plan
