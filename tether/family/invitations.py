"""Family members: invited by the care team, removed by the care team or by the patient.

An invitation makes the family member's account (kind ``proxy``, no password yet), their
``Proxy`` row with the scopes chosen, and a single-use, expiring invite link (the same
``accounts.Invite`` a patient gets at intake), shown once as a link and a QR code and,
if asked, sent by e-mail. Scopes are chosen within what the patient agreed to: an adult
asked for them (the patient changes them later on their own family page); for an
adolescent the care team sets them with the teen's assent, recorded on the row.
Every step is audited (ids and codes only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.accounts import services as account_services
from tether.accounts.models import Invite, User
from tether.consent.services import ADULT_AGE
from tether.patients.models import Patient, Proxy
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from tether.accounts.services import IssuedInvite


class FamilyError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FamilyInvitation:
    proxy: Proxy
    issued: IssuedInvite


def _record(*, user: User, patient: Patient, action: Action, obj: Proxy, purpose: Purpose) -> None:
    audit.record(
        request=None,
        actor=user,
        patient=patient,
        action=action,
        category=Category.GENERAL,
        purpose=purpose,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
    )


def family_invite(
    *,
    patient: Patient,
    first_name: str,
    last_name: str,
    email: str,
    relationship: str,
    is_legal_guardian: bool,
    scopes: set[str],
    patient_agreed: bool,
    invited_by: User,
    send_email: bool,
) -> FamilyInvitation:
    """Invite one family member of ``patient`` with ``scopes`` (``Proxy.Scope`` values)."""
    problems = []
    email = email.strip()
    if not patient_agreed:
        problems.append(_("Ask the patient first, and tick that they agreed to these scopes."))
    unknown = scopes - set(Proxy.Scope.values)
    if unknown:
        problems.append(_("Choose scopes from the list."))
    if relationship not in Proxy.Relationship.values:
        problems.append(_("Choose how they are related."))
    if email and User.objects.annotate(e=Lower("email")).filter(e=email.lower()).exists():
        problems.append(
            _("The e-mail %(email)s already belongs to an account: use another address.")
            % {"email": email}
        )
    if send_email and not email:
        problems.append(_("Give an e-mail address to send the invitation to."))
    if problems:
        raise FamilyError(problems)
    adult = patient.age_on(timezone.localdate()) >= ADULT_AGE
    with transaction.atomic():
        user = User(
            username=_username(first_name, last_name),
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email,
            kind=User.Kind.PROXY,
            organization_id=patient.organization_id,
        )
        user.set_unusable_password()
        user.save()
        proxy = Proxy.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            user=user,
            relationship=relationship,
            is_legal_guardian=is_legal_guardian,
            assent_recorded_at=None if adult else timezone.now(),
            **{f"scope_{scope}": scope in scopes for scope in Proxy.Scope.values},
        )
        issued = account_services.invite_create(user=user, created_by=invited_by)
        _record(
            user=invited_by,
            patient=patient,
            action=Action.CREATE,
            obj=proxy,
            purpose=Purpose.OPERATIONS,
        )
        if send_email:
            url = settings.SITE_URL.rstrip("/") + f"/accounts/invite/{issued.token}/"
            transaction.on_commit(
                lambda: send_mail(
                    _("Your invitation to Tether"),
                    _(
                        "%(name)s's care team invited you to see what %(name)s agreed to "
                        "share with you. Open this link to choose your password (it works "
                        "once and expires %(when)s):\n\n%(url)s\n"
                    )
                    % {
                        "name": patient.friendly_name,
                        "when": issued.invite.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
                        "url": url,
                    },
                    None,
                    [email],
                ),
                robust=True,
            )
    return FamilyInvitation(proxy=proxy, issued=issued)


def _username(first_name: str, last_name: str) -> str:
    from tether.patients.services import username_suggest

    return username_suggest(first_name=first_name, last_name=last_name)


def family_access_end(*, proxy: Proxy, ended_by: User) -> Proxy:
    """End one family member's access to one patient, at once; their unused invite
    stops working if they reach nobody else."""
    now = timezone.now()
    with transaction.atomic():
        locked = Proxy.objects.select_for_update(no_key=True).get(pk=proxy.pk)
        if not locked.is_active:
            return locked
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        if not Proxy.objects.filter(user_id=locked.user_id, is_active=True).exists():
            Invite.objects.filter(
                user_id=locked.user_id, used_at__isnull=True, revoked_at__isnull=True
            ).update(revoked_at=now)
        by_patient = ended_by.pk == locked.patient.user_id
        _record(
            user=ended_by,
            patient=locked.patient,
            action=Action.UPDATE,
            obj=locked,
            purpose=Purpose.PATIENT_REQUEST if by_patient else Purpose.OPERATIONS,
        )
    return locked
