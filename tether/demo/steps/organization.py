"""The organization, its first admin, and its programs, each with its own crisis numbers."""

from __future__ import annotations

import datetime as dt

from tether.accounts.models import User
from tether.demo import roster
from tether.demo.context import DemoContext
from tether.organizations.models import Organization, Program, StaffMember
from tether.organizations.services import program_closure_add
from tether.organizations.setup import program_create

# Fixed-date days many US clinics close: the next one after the demo's today is shown
# as a closed day on every program (Crisis lines page; routing goes to on-call).
_FIXED_HOLIDAYS = ((1, 1, "New Year's Day"), (7, 4, "Independence Day"), (12, 25, "Christmas Day"))


def next_holiday(today: dt.date) -> tuple[dt.date, str]:
    candidates = [
        (dt.date(year, month, day), name)
        for year in (today.year, today.year + 1)
        for month, day, name in _FIXED_HOLIDAYS
    ]
    return min((c for c in candidates if c[0] > today), key=lambda c: c[0])


def run(ctx: DemoContext) -> None:
    """The organization and its first program admin (what an install starts with), then
    each program created by that admin through ``program_create`` (crisis line, office
    hours, the default flag rules) and its next holiday closed through
    ``program_closure_add``. The main line and the Part 2 mark have no page of their
    own yet: they are written on the program row."""
    ctx.organization = Organization.objects.create(
        name=roster.ORGANIZATION_NAME, slug=roster.ORGANIZATION_SLUG
    )
    spec = next(s for s in roster.STAFF if s.role == roster.R.PROGRAM_ADMIN)
    user = User.objects.create(
        username=spec.username,
        password=ctx.password_hash,
        first_name=spec.first_name,
        last_name=spec.last_name,
        email=staff_email(spec),
        kind=User.Kind.STAFF,
        organization=ctx.org,
        has_seen_welcome=True,
        date_joined=ctx.days_ago(roster.HISTORY_DAYS + 300),
    )
    admin = StaffMember.objects.create(
        organization=ctx.org, user=user, role=spec.role, title=spec.title
    )
    ctx.users[spec.username] = user
    ctx.staff[spec.username] = admin
    for program_spec in roster.PROGRAMS:
        program = program_create(
            admin=admin,
            user=user,
            name=program_spec.name,
            kind=program_spec.kind,
            time_zone=roster.TIME_ZONE,
            crisis_line=program_spec.crisis_line,
            after_hours_line=program_spec.after_hours_line,
            office_opens_at=dt.time(9, 0),
            office_closes_at=dt.time(17, 0),
            office_days="01234",
        )
        Program.objects.filter(pk=program.pk).update(
            main_line=program_spec.main_line,
            treats_substance_use=program_spec.treats_substance_use,
        )
        program.refresh_from_db()
        ctx.programs[program_spec.key] = program
    ctx.counts["programs"] = len(ctx.programs)
    day, name = next_holiday(ctx.today)
    for program in ctx.programs.values():
        program_closure_add(program=program, date=day, reason=name, user=user)


def staff_email(spec: roster.StaffSpec) -> str:
    return f"{spec.first_name}.{spec.last_name}@riverbend.example".lower()
