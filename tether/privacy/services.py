"""Privacy writes: emergency (break-glass) access.

ONC 170.315(d)(6) asks for emergency access for an identified set of users;
42 CFR 2.51 lets Part 2 information go to medical personnel to meet a bona
fide medical emergency, documented with who received it, who disclosed it,
when, and the nature of the emergency. A ``BreakGlassGrant`` is that
documentation: the clinician, the patient, the time window and the stated
reason. The audit trail records that it happened (ids and codes only) and the
gate grants the ``BREAK_GLASS`` relation while it is active.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.accounts.models import User
from tether.notifications.models import Notification
from tether.notifications.services import notify
from tether.organizations.models import StaffMember
from tether.patients.models import Episode
from tether.privacy import audit
from tether.privacy.models import AuditEvent, BreakGlassGrant, Purpose
from tether.privacy.policy import Action, Category, Relation

if TYPE_CHECKING:
    from tether.patients.models import Patient

EXPLANATION_MIN_LENGTH = 20
EXPLANATION_MAX_LENGTH = 2000

# Who may break the glass: the clinical roles (ONC (d)(6): "an identified set of users").
BREAK_GLASS_ROLES = frozenset(
    {StaffMember.Role.CLINICIAN, StaffMember.Role.CLINICAL_LEAD, StaffMember.Role.ON_CALL}
)
# Who is told at once when it happens.
ALERTED_ROLES = frozenset({StaffMember.Role.CLINICAL_LEAD, StaffMember.Role.PRIVACY_OFFICER})


class BreakGlassReason(models.TextChoices):
    IMMINENT_RISK = "imminent_risk", _("Risk of harm to the patient or someone else, now")
    MEDICAL_EMERGENCY = "medical_emergency", _("Medical emergency")
    CRISIS_CONTACT = (
        "crisis_contact",
        _("The patient contacted us in crisis and their care team cannot be reached"),
    )
    OTHER = "other", _("Another emergency (explain below)")


class BreakGlassError(Exception):
    """The request for emergency access cannot be granted (defence in depth: views check first)."""


@dataclass(frozen=True)
class StatedReason:
    category: BreakGlassReason | None
    explanation: str

    @property
    def category_label(self) -> str:
        return str(self.category.label) if self.category is not None else ""


def stated_reason(grant: BreakGlassGrant) -> StatedReason:
    """The reason category and the clinician's own words, as stored on the grant."""
    code = grant.reason_code
    category = BreakGlassReason(code) if code in BreakGlassReason.values else None
    return StatedReason(category, grant.reason)


def may_break_glass(user: User) -> bool:
    """Only active clinical staff can ask for emergency access at all."""
    if not user.is_authenticated or not user.is_active or not user.is_staff_member:
        return False
    try:
        staff = user.staff_member
    except StaffMember.DoesNotExist:
        return False
    return staff.is_active and staff.role in BREAK_GLASS_ROLES


def active_grant(*, user: User, patient: Patient) -> BreakGlassGrant | None:
    now = timezone.now()
    return (
        BreakGlassGrant.objects.filter(
            user=user,
            patient=patient,
            organization_id=patient.organization_id,
            started_at__lte=now,
            expires_at__gt=now,
        )
        .order_by("-expires_at")
        .first()
    )


def grant_local_time(grant: BreakGlassGrant, when: dt.datetime) -> dt.datetime:
    """``when`` in the time zone of the patient's program (the clinic's clock)."""
    episode = (
        Episode.objects.filter(patient_id=grant.patient_id)
        .select_related("program")
        .order_by("status", "-admitted_on")  # "active" sorts before "discharged"
        .first()
    )
    return timezone.localtime(when, episode.program.tzinfo if episode else None)


def _alert_recipients(*, organization_id: int, exclude: User) -> list[User]:
    return list(
        User.objects.filter(
            organization_id=organization_id,
            is_active=True,
            kind=User.Kind.STAFF,
            staff_member__is_active=True,
            staff_member__role__in=ALERTED_ROLES,
        )
        .exclude(pk=exclude.pk)
        .order_by("pk")
    )


@transaction.atomic
def break_glass_start(
    *,
    request: HttpRequest | None,
    user: User,
    patient: Patient,
    reason: BreakGlassReason,
    explanation: str,
) -> BreakGlassGrant:
    """Open a time-limited emergency access grant, audit it, and alert the reviewers.

    The reason is stored on the grant (the §2.51 documentation); the audit
    event holds only ids and codes.
    """
    explanation = explanation.strip()
    if not may_break_glass(user):
        raise BreakGlassError("Only active clinical staff can use emergency access.")
    if user.organization_id != patient.organization_id:
        raise BreakGlassError("Emergency access never crosses organizations.")
    if len(explanation) < EXPLANATION_MIN_LENGTH:
        raise BreakGlassError(
            f"The explanation needs at least {EXPLANATION_MIN_LENGTH} characters."
        )
    if len(explanation) > EXPLANATION_MAX_LENGTH:
        raise BreakGlassError(
            f"The explanation can have at most {EXPLANATION_MAX_LENGTH} characters."
        )
    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        organization_id=patient.organization_id,
        user=user,
        patient=patient,
        reason_code=reason.value,
        reason=explanation,
        started_at=now,
        expires_at=now + dt.timedelta(minutes=settings.TETHER_BREAK_GLASS_MINUTES),
    )
    audit.record(
        request=request,
        actor=user,
        patient=patient,
        action=Action.CREATE,
        category=Category.GENERAL,
        purpose=Purpose.EMERGENCY,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=grant,
        acting_as=Relation.BREAK_GLASS.value,
    )
    notify(
        recipients=_alert_recipients(organization_id=patient.organization_id, exclude=user),
        kind=Notification.Kind.BREAK_GLASS,
        organization=patient.organization,
        actor=user,
        patient=patient,
        break_glass_grant=grant,
    )
    return grant
