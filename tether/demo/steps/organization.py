"""The organization and its programs, each with its own crisis numbers."""

from __future__ import annotations

from tether.demo import roster
from tether.demo.context import DemoContext
from tether.organizations.models import Organization, Program


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
