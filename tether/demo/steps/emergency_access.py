"""One use of emergency access (break-glass), so the privacy officer and the clinical
lead have a real alert to review and ``rotate_keys`` has encrypted text to re-encrypt.

Tonight's story: Derek (deteriorating) called the program's crisis line after hours;
his own care team could not be reached, so a clinician outside his team opened his
record. It goes through the real service: grant, audit event and alerts.
"""

from __future__ import annotations

from tether.demo.context import DemoContext
from tether.demo.stories import Story
from tether.organizations.models import StaffMember
from tether.patients.models import CareTeamMember
from tether.privacy.services import BreakGlassReason, break_glass_start


def run(ctx: DemoContext) -> None:
    patient = ctx.patient_for(Story.DETERIORATING)
    on_team = set(
        CareTeamMember.objects.filter(episode__patient=patient, ended_on__isnull=True).values_list(
            "staff_member_id", flat=True
        )
    )
    clinician = next(
        member
        for username, member in sorted(ctx.staff.items())
        if member.role == StaffMember.Role.CLINICIAN and member.pk not in on_team
    )
    break_glass_start(
        request=None,
        user=clinician.user,
        patient=patient,
        reason=BreakGlassReason.CRISIS_CONTACT,
        explanation=(
            "Called the crisis line after hours asking for his therapist; primary therapist "
            "and on-call line busy. Reviewing his safety plan before calling back."
        ),
    )
    ctx.counts["emergency access grants"] = 1
