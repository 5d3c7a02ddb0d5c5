"""Urgent-contact requests: raise, route, escalate, acknowledge, document and close.

Every function takes ``now=`` so the escalation clock can be driven in tests (and by
the scheduler) without sleeping. Each write records its ``UrgentContactEvent`` and
its audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from tether.accounts.models import User
from tether.crisis.models import Level, UrgentContactEvent, UrgentContactRequest
from tether.flags.services import evaluate_soon
from tether.lib.transactions import retry_on_conflict
from tether.notifications.models import Notification
from tether.notifications.services import notify
from tether.organizations.models import OnCallShift, Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, Patient
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from django.db.models import QuerySet

# Urgent requests are written by the patient and answered by the team.
CATEGORY = Category.SHARED
# What staff write when they take a request (acknowledged; contact documented and
# closed): a clinical follow-up note, which the program's on-call clinician and clinical
# lead may create for every patient of their programs (docs/PRIVACY.md). Not relabelled
# Part 2: it holds codes and a next step, never the message's words (those stay in the
# Part 2 message), and on-call must be able to answer every patient in a crisis.
FOLLOW_UP_CATEGORY = Category.MENTAL_HEALTH

_NEXT_LEVEL = {
    Level.CARE_TEAM: Level.CLINICAL_LEAD,
    Level.ON_CALL: Level.CLINICAL_LEAD,
    Level.CLINICAL_LEAD: Level.ESCALATION_CONTACT,
}


class NoProgramError(ValueError):
    """The patient has never been admitted to a program: nobody to route to."""


def program_of(patient: Patient) -> Program:
    episode = (
        Episode.objects.filter(patient=patient)
        .select_related("program")
        .order_by("status", "-admitted_on")  # "active" sorts before "discharged"
        .first()
    )
    if episode is None:
        raise NoProgramError(f"Patient {patient.pk} has no episode of care")
    return episode.program


def _active_staff(program: Program, role: StaffMember.Role) -> list[User]:
    staff = StaffMember.objects.filter(
        programs=program, role=role, is_active=True, user__is_active=True
    ).select_related("user")
    return [member.user for member in staff]


def _on_call_now(program: Program, now: dt.datetime) -> list[User]:
    """The on-call rota: staff whose shift covers ``now``; with none, every on-call
    clinician of the program (the behaviour without a rota)."""
    shifts = OnCallShift.objects.filter(
        program=program,
        starts_at__lte=now,
        ends_at__gt=now,
        staff_member__is_active=True,
        staff_member__user__is_active=True,
    ).select_related("staff_member__user")
    on_shift = {shift.staff_member.user.pk: shift.staff_member.user for shift in shifts}
    if on_shift:
        return list(on_shift.values())
    return _active_staff(program, StaffMember.Role.ON_CALL)


def recipients_at(
    level: Level, *, patient: Patient, program: Program, now: dt.datetime | None = None
) -> list[User]:
    """Who is alerted when a request is with ``level`` (at ``now``: the on-call rota)."""
    if level == Level.CARE_TEAM:
        members = CareTeamMember.objects.filter(
            episode__patient=patient,
            episode__status=Episode.Status.ACTIVE,
            ended_on__isnull=True,
            staff_member__is_active=True,
            staff_member__role__in=StaffMember.CLINICAL_ROLES,
        ).select_related("staff_member__user")
        return [m.staff_member.user for m in members]
    if level == Level.ON_CALL:
        return _on_call_now(program, now or timezone.now())
    if level == Level.CLINICAL_LEAD:
        return _active_staff(program, StaffMember.Role.CLINICAL_LEAD)
    contact = program.escalation_contact
    if contact is not None and contact.is_active and contact.user.is_active:
        return [contact.user]
    # No escalation contact configured: the program's admins must find one.
    return _active_staff(program, StaffMember.Role.PROGRAM_ADMIN)


def expected_contact_by(request: UrgentContactRequest) -> dt.datetime:
    """What the patient is told: by the end of the whole escalation chain."""
    return request.raised_at + dt.timedelta(minutes=3 * request.program.escalation_minutes)


def _audit(
    request: UrgentContactRequest,
    *,
    actor: User | None,
    action: Action,
    category: Category = CATEGORY,
) -> AuditEvent:
    return audit.record(
        request=None,
        actor=actor,
        patient=request.patient,
        action=action,
        category=category,
        purpose=Purpose.TREATMENT,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=request,
    )


def _route(
    request: UrgentContactRequest,
    level: Level,
    *,
    kind: UrgentContactEvent.Kind,
    now: dt.datetime,
) -> None:
    """Put the request with ``level`` (or the next level that has anyone) and alert them."""
    current = level
    while True:
        recipients = recipients_at(
            current, patient=request.patient, program=request.program, now=now
        )
        following = _NEXT_LEVEL.get(current)
        if recipients or following is None:
            break
        current = following
    request.level = current
    request.escalate_at = (
        None
        if current == Level.ESCALATION_CONTACT
        else now + dt.timedelta(minutes=request.program.escalation_minutes)
    )
    request.save(update_fields=["level", "escalate_at"])
    UrgentContactEvent.objects.create(
        organization_id=request.organization_id,
        request=request,
        kind=kind,
        level=current,
        occurred_at=now,
        notified_count=len(recipients),
    )
    notify(
        recipients=recipients,
        kind=(
            Notification.Kind.URGENT_REQUEST
            if kind == UrgentContactEvent.Kind.ROUTED
            else Notification.Kind.URGENT_ESCALATED
        ),
        organization=request.organization,
        patient=request.patient,
        urgent_request=request,
        now=now,
    )


def urgent_contact_raise(
    *,
    patient: Patient,
    source: UrgentContactRequest.Source | str,
    now: dt.datetime | None = None,
    actor: User | None = None,
) -> UrgentContactRequest:
    """Raise an urgent-contact request (or add to the patient's open one) and route it.

    In office hours it goes to the care team, after hours to the on-call clinician.
    A patient with a request still open gets that request back, with the new call
    recorded on it, instead of a second one: two taps at once (a double tap, or the
    button and a risky answer) save one request. A transaction that loses a lock
    conflict is run again (``retry_on_conflict``), so a tap is never lost to one.
    """
    now = now or timezone.now()
    source = UrgentContactRequest.Source(source)
    program = program_of(patient)
    return retry_on_conflict(
        lambda: _raise_once(patient=patient, source=source, program=program, now=now, actor=actor),
        what="urgent-contact request",
    )


def _raise_once(
    *,
    patient: Patient,
    source: UrgentContactRequest.Source,
    program: Program,
    now: dt.datetime,
    actor: User | None,
) -> UrgentContactRequest:
    with transaction.atomic():
        # Lock order (docs/ARCHITECTURE.md, "Locks"): the patient row first, FOR NO KEY
        # UPDATE, so that two raises for one patient take turns while the inserts that
        # name the patient (audit events, messages) never wait on it.
        Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()
        evaluate_soon(patient.pk)  # flag rules (crisis pathway), after the commit
        existing = (
            UrgentContactRequest.objects.filter(patient=patient)
            .exclude(status=UrgentContactRequest.Status.CLOSED)
            .select_related("program")
            .first()
        )
        if existing is not None:
            UrgentContactEvent.objects.create(
                organization_id=existing.organization_id,
                request=existing,
                kind=UrgentContactEvent.Kind.RAISED,
                occurred_at=now,
                actor=actor,
                source=source,
            )
            _audit(existing, actor=actor, action=Action.UPDATE)
            return existing
        after_hours = not program.is_office_hours(now)
        request = UrgentContactRequest.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            program=program,
            source=source,
            level=Level.ON_CALL if after_hours else Level.CARE_TEAM,
            raised_at=now,
            after_hours=after_hours,
        )
        UrgentContactEvent.objects.create(
            organization_id=request.organization_id,
            request=request,
            kind=UrgentContactEvent.Kind.RAISED,
            occurred_at=now,
            actor=actor,
            source=source,
        )
        _route(
            request,
            Level(request.level),
            kind=UrgentContactEvent.Kind.ROUTED,
            now=now,
        )
        _audit(request, actor=actor, action=Action.CREATE)
    return request


def urgent_contact_escalate_due(*, now: dt.datetime | None = None) -> int:
    """The sweep: escalate every open, unacknowledged request whose window has passed.

    Run every minute by the scheduler; returns how many requests moved up a level.
    """
    now = now or timezone.now()
    moved = 0
    due_ids = list(
        UrgentContactRequest.objects.filter(
            status=UrgentContactRequest.Status.OPEN,
            escalate_at__isnull=False,
            escalate_at__lte=now,
        ).values_list("pk", flat=True)
    )
    for pk in due_ids:
        if retry_on_conflict(
            functools.partial(_escalate_once, pk, now=now), what="urgent-request escalation"
        ):
            moved += 1
    return moved


def _escalate_once(pk: int, *, now: dt.datetime) -> bool:
    with transaction.atomic():
        # Only the request's own row is locked (of=self): the program, patient and
        # organization joined for reading stay free for everyone else.
        request = (
            UrgentContactRequest.objects.select_for_update(no_key=True, of=("self",))
            .select_related("program", "patient", "organization")
            .filter(
                pk=pk,
                status=UrgentContactRequest.Status.OPEN,
                escalate_at__isnull=False,
                escalate_at__lte=now,
            )
            .first()
        )
        if request is None:
            return False  # acknowledged or escalated meanwhile
        next_level = _NEXT_LEVEL.get(Level(request.level))
        if next_level is None:
            return False
        _route(request, next_level, kind=UrgentContactEvent.Kind.ESCALATED, now=now)
        _audit(request, actor=None, action=Action.UPDATE)
        return True


def urgent_contact_acknowledge(
    *, request: UrgentContactRequest, user: User, now: dt.datetime | None = None
) -> UrgentContactRequest:
    """A clinician takes the request: the escalation clock stops."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = UrgentContactRequest.objects.select_for_update(no_key=True).get(pk=request.pk)
        if locked.status != UrgentContactRequest.Status.OPEN:
            return locked
        locked.status = UrgentContactRequest.Status.ACKNOWLEDGED
        locked.acknowledged_at = now
        locked.acknowledged_by = user
        locked.escalate_at = None
        locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "escalate_at"])
        UrgentContactEvent.objects.create(
            organization_id=locked.organization_id,
            request=locked,
            kind=UrgentContactEvent.Kind.ACKNOWLEDGED,
            level=locked.level,
            occurred_at=now,
            actor=user,
        )
        _audit(locked, actor=user, action=Action.CREATE, category=FOLLOW_UP_CATEGORY)
    return locked


def urgent_contact_close(
    *,
    request: UrgentContactRequest,
    user: User,
    contact_method: str,
    outcome: str,
    safety_plan_reviewed: bool,
    next_step: str,
    now: dt.datetime | None = None,
) -> UrgentContactRequest:
    """Document the contact and close the request (acknowledging it first if need be)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = UrgentContactRequest.objects.select_for_update(no_key=True).get(pk=request.pk)
        if locked.status == UrgentContactRequest.Status.CLOSED:
            return locked
        if locked.status == UrgentContactRequest.Status.OPEN:
            locked = urgent_contact_acknowledge(request=locked, user=user, now=now)
        locked.status = UrgentContactRequest.Status.CLOSED
        locked.contact_method = UrgentContactRequest.ContactMethod(contact_method)
        locked.outcome = UrgentContactRequest.Outcome(outcome)
        locked.safety_plan_reviewed = safety_plan_reviewed
        locked.next_step = next_step.strip()
        locked.closed_at = now
        locked.closed_by = user
        locked.escalate_at = None
        locked.save()
        UrgentContactEvent.objects.create(
            organization_id=locked.organization_id,
            request=locked,
            kind=UrgentContactEvent.Kind.CLOSED,
            level=locked.level,
            occurred_at=now,
            actor=user,
        )
        _audit(locked, actor=user, action=Action.CREATE, category=FOLLOW_UP_CATEGORY)
    return locked


def open_requests() -> QuerySet[UrgentContactRequest]:
    return UrgentContactRequest.objects.exclude(status=UrgentContactRequest.Status.CLOSED)
