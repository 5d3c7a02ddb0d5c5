"""Staff: clinicians, a clinical lead, on-call, front desk, an admin, a privacy officer.

No authenticator device is set up for them: the demo runs with
``TETHER_STAFF_MFA_REQUIRED=0`` so that anyone can look around at once. Where the
demo runs with it on, each staff member is asked to set up an app at first sign-in,
as in production.
"""

from __future__ import annotations

from tether.accounts.models import Invite
from tether.demo import roster
from tether.demo.context import DemoContext
from tether.demo.steps.organization import staff_email
from tether.organizations.staffing import staff_invite


def run(ctx: DemoContext) -> None:
    """Everyone but the first admin is invited by that admin through ``staff_invite``
    (role, title, programs; the invitation e-mail goes to the console backend). That
    they then chose a password (the shared demo one) and signed in is their own doing,
    written directly: the demo logins keep their short usernames."""
    admin_spec = next(s for s in roster.STAFF if s.role == roster.R.PROGRAM_ADMIN)
    admin = ctx.users[admin_spec.username]
    for spec in roster.STAFF:
        if spec.username == admin_spec.username:
            continue
        member = staff_invite(
            actor=admin,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=staff_email(spec),
            role=spec.role,
            title=spec.title,
            programs=[ctx.programs[key] for key in spec.programs],
        )
        user = member.user
        user.username = spec.username
        user.password = ctx.password_hash
        user.has_seen_welcome = True
        user.date_joined = ctx.days_ago(roster.HISTORY_DAYS + 300)
        user.save(update_fields=["username", "password", "has_seen_welcome", "date_joined"])
        Invite.objects.filter(user=user, used_at__isnull=True).update(used_at=user.date_joined)
        ctx.users[spec.username] = user
        ctx.staff[spec.username] = member
    ctx.counts["staff"] = len(ctx.staff)
