"""Staff: clinicians, a clinical lead, on-call, front desk, an admin, a privacy officer.

No authenticator device is set up for them: the demo runs with
``TETHER_STAFF_MFA_REQUIRED=0`` so that anyone can look around at once. Where the
demo runs with it on, each staff member is asked to set up an app at first sign-in,
as in production.
"""

from __future__ import annotations

from tether.accounts.models import User
from tether.demo import roster
from tether.demo.context import DemoContext
from tether.organizations.models import StaffMember


def run(ctx: DemoContext) -> None:
    for spec in roster.STAFF:
        user = User.objects.create(
            username=spec.username,
            password=ctx.password_hash,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=f"{spec.first_name}.{spec.last_name}@riverbend.example".lower(),
            kind=User.Kind.STAFF,
            organization=ctx.org,
            has_seen_welcome=True,
            date_joined=ctx.days_ago(roster.HISTORY_DAYS + 300),
        )
        member = StaffMember.objects.create(
            organization=ctx.org, user=user, role=spec.role, title=spec.title
        )
        member.programs.set([ctx.programs[key] for key in spec.programs])
        ctx.users[spec.username] = user
        ctx.staff[spec.username] = member
    ctx.counts["staff"] = len(ctx.staff)
