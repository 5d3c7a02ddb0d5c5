"""A program's set-up by its admin, in the app: which instruments it asks and when, the
on-call rota, and who is on each patient's care team. Each write records its audit event
(ids and codes only) in the same transaction, like the other program settings."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.organizations.models import OnCallShift, Program, StaffMember
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from django.db.models import Model

    from tether.accounts.models import User
    from tether.checkins.models import ProgramInstrument
    from tether.patients.models import CareTeamMember, Episode

MAX_SHIFT = dt.timedelta(days=7)
OFF = "off"


class SetupError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _audit(*, user: User, action: Action, obj: Model, patient: object = None) -> None:
    audit.record(
        request=None,
        actor=user,
        patient=patient,  # type: ignore[arg-type]  # a Patient or None
        action=action,
        category=Category.GENERAL,
        purpose=Purpose.OPERATIONS,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
    )


MAX_ACCESS_DAYS = 365


def program_access_days_set(*, program: Program, days: int, user: User) -> Program:
    """How long a discharged patient keeps their safety plan, aftercare plan and final
    measures (fixed on each episode at its discharge; later changes do not move it)."""
    if not 0 <= days <= MAX_ACCESS_DAYS:
        raise SetupError([_("Choose from 0 to %(max)d days.") % {"max": MAX_ACCESS_DAYS}])
    with transaction.atomic():
        locked = Program.objects.select_for_update(no_key=True).get(pk=program.pk)
        locked.post_discharge_access_days = days
        locked.save(update_fields=["post_discharge_access_days"])
        _audit(user=user, action=Action.UPDATE, obj=locked)
    return locked


def on_call_shift_add(
    *,
    program: Program,
    staff_member: StaffMember,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    user: User,
    now: dt.datetime | None = None,
) -> OnCallShift:
    now = now or timezone.now()
    problems = []
    if not staff_member.is_active or not staff_member.is_clinical:
        problems.append(_("Only an active clinician can be on call."))
    elif not staff_member.programs.filter(pk=program.pk).exists():
        problems.append(_("That clinician does not work in this program."))
    if ends_at <= starts_at:
        problems.append(_("The shift ends before it starts."))
    elif ends_at - starts_at > MAX_SHIFT:
        problems.append(_("A shift can be at most 7 days long."))
    if ends_at <= now:
        problems.append(_("This shift is over already: choose times still to come."))
    if problems:
        raise SetupError(problems)
    with transaction.atomic():
        shift = OnCallShift.objects.create(
            organization_id=program.organization_id,
            program=program,
            staff_member=staff_member,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=user,
        )
        _audit(user=user, action=Action.CREATE, obj=shift)
    return shift


def on_call_shift_remove(*, shift: OnCallShift, user: User) -> None:
    with transaction.atomic():
        _audit(user=user, action=Action.UPDATE, obj=shift)
        shift.delete()


def program_instrument_set(
    *, program: Program, instrument_code: str, schedule: str, user: User
) -> ProgramInstrument | None:
    """Ask an instrument on a schedule (daily, weekly, before each session), or stop
    asking it (``off``). Past responses are kept whatever the schedule becomes."""
    from tether.checkins.models import Instrument, ProgramInstrument

    if not Instrument.objects.filter(code=instrument_code, is_current=True).exists():
        raise SetupError([_("No such questionnaire.")])
    if schedule != OFF and schedule not in ProgramInstrument.Schedule.values:
        raise SetupError([_("Choose when it is asked.")])
    with transaction.atomic():
        row = ProgramInstrument.objects.filter(
            program=program, instrument_code=instrument_code
        ).first()
        if row is None and schedule == OFF:
            return None
        if row is None:
            row = ProgramInstrument.objects.create(
                organization_id=program.organization_id,
                program=program,
                instrument_code=instrument_code,
                schedule=schedule,
            )
            _audit(user=user, action=Action.CREATE, obj=row)
            return row
        active = schedule != OFF
        if row.is_active == active and (not active or row.schedule == schedule):
            return row
        row.is_active = active
        if active:
            row.schedule = schedule
        row.save(update_fields=["is_active", "schedule"])
        _audit(user=user, action=Action.UPDATE, obj=row)
    return row


def care_team_assign(
    *, episode: Episode, staff_member: StaffMember, role: str, user: User
) -> CareTeamMember:
    from tether.patients.models import CareTeamMember

    problems = []
    if not staff_member.is_active or not staff_member.is_clinical:
        problems.append(_("Only an active clinician can join a care team."))
    elif not staff_member.programs.filter(pk=episode.program_id).exists():
        problems.append(_("That clinician does not work in this program."))
    if role not in CareTeamMember.Role.values:
        problems.append(_("Choose their role on the team."))
    if CareTeamMember.objects.filter(
        episode=episode, staff_member=staff_member, ended_on__isnull=True
    ).exists():
        problems.append(_("That clinician is on the team already."))
    if problems:
        raise SetupError(problems)
    with transaction.atomic():
        member = CareTeamMember.objects.create(
            organization_id=episode.organization_id,
            episode=episode,
            staff_member=staff_member,
            role=role,
            started_on=timezone.localdate(),
        )
        _audit(user=user, action=Action.CREATE, obj=member, patient=episode.patient)
    return member


def care_team_end(*, member: CareTeamMember, user: User) -> None:
    with transaction.atomic():
        member.ended_on = timezone.localdate()
        member.save(update_fields=["ended_on"])
        _audit(user=user, action=Action.UPDATE, obj=member, patient=member.episode.patient)


WEEKDAYS = "0123456"


def _office_hours_problems(opens: dt.time, closes: dt.time, days: str) -> list[str]:
    problems = []
    if closes <= opens:
        problems.append(_("The office closes before it opens: check the times."))
    if not days or any(d not in WEEKDAYS for d in days) or len(set(days)) != len(days):
        problems.append(_("Tick the days the office is open."))
    return problems


def program_create(
    *,
    admin: StaffMember,
    user: User,
    name: str,
    kind: str,
    time_zone: str,
    crisis_line: str,
    after_hours_line: str,
    office_opens_at: dt.time,
    office_closes_at: dt.time,
    office_days: str,
) -> Program:
    """A new program of the admin's organization, with its crisis line, office hours and
    the default flag rules; the admin works in it from now on (to set it up)."""
    from tether.flags.services import rules_ensure_defaults
    from tether.organizations.models import validate_time_zone

    problems = []
    name = name.strip()
    if not name:
        problems.append(_("Give the program a name."))
    elif Program.objects.filter(organization_id=admin.organization_id, name__iexact=name).exists():
        problems.append(
            _("The organization already has a program called %(name)s.") % {"name": name}
        )
    if kind not in Program.Kind.values:
        problems.append(_("Choose the kind of program."))
    try:
        validate_time_zone(time_zone)
    except ValidationError:
        problems.append(_("Choose a time zone from the list."))
    if not crisis_line:
        problems.append(_("Give the program's crisis line: patients see it on every page."))
    problems += _office_hours_problems(office_opens_at, office_closes_at, office_days)
    if problems:
        raise SetupError(problems)
    with transaction.atomic():
        program = Program.objects.create(
            organization_id=admin.organization_id,
            name=name,
            kind=kind,
            time_zone=time_zone,
            crisis_line=crisis_line,
            after_hours_line=after_hours_line,
            office_opens_at=office_opens_at,
            office_closes_at=office_closes_at,
            office_days="".join(sorted(office_days)),
        )
        admin.programs.add(program)
        rules_ensure_defaults(programs=[program])
        _audit(user=user, action=Action.CREATE, obj=program)
    return program


def program_office_hours_set(
    *, program: Program, opens: dt.time, closes: dt.time, days: str, user: User
) -> Program:
    """When the care team answers (program time): urgent requests outside these hours go
    to on-call, and messages get the after-hours reply."""
    problems = _office_hours_problems(opens, closes, days)
    if problems:
        raise SetupError(problems)
    with transaction.atomic():
        locked = Program.objects.select_for_update(no_key=True).get(pk=program.pk)
        locked.office_opens_at = opens
        locked.office_closes_at = closes
        locked.office_days = "".join(sorted(days))
        locked.save(update_fields=["office_opens_at", "office_closes_at", "office_days"])
        _audit(user=user, action=Action.UPDATE, obj=locked)
    return locked
