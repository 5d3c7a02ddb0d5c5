"""The organization and its programs, each with its own crisis numbers."""

from __future__ import annotations

import datetime as dt

from tether.demo import roster
from tether.demo.context import DemoContext
from tether.organizations.models import Organization, Program, ProgramClosure

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
    ctx.organization = Organization.objects.create(
        name=roster.ORGANIZATION_NAME, slug=roster.ORGANIZATION_SLUG
    )
    for spec in roster.PROGRAMS:
        ctx.programs[spec.key] = Program.objects.create(
            organization=ctx.org,
            name=spec.name,
            kind=spec.kind,
            time_zone=roster.TIME_ZONE,
            crisis_line=spec.crisis_line,
            after_hours_line=spec.after_hours_line,
            main_line=spec.main_line,
            treats_substance_use=spec.treats_substance_use,
        )
    ctx.counts["programs"] = len(ctx.programs)
    day, name = next_holiday(ctx.today)
    ProgramClosure.objects.bulk_create(
        ProgramClosure(organization=ctx.org, program=program, date=day, reason=name)
        for program in ctx.programs.values()
    )
