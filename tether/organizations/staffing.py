"""A program admin's staff: invite a colleague, set their role, deactivate them.

Every write runs in one transaction with its audit event (ids and codes only). Only an
active program admin of the same organization may act, and never on themself (so the
organization always keeps the admin who is acting: an admin's role is changed, or an
admin deactivated, only by another admin).

An invitation makes the account with no password and e-mails two single-use links
(after the commit): the existing onboarding link (``accounts.Invite``: choose a
password) and the staff set-up link for the authenticator app
(``accounts.StaffEnrolmentLink``). The admin never sees either link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext as _

from tether.accounts import services as account_services
from tether.accounts.models import Invite, StaffEnrolmentLink, User
from tether.organizations.models import OnCallShift, Program, StaffMember
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.http import HttpRequest


class StaffingError(ValueError):
    """One or more problems, each a sentence for the admin who typed it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class StaffingRefused(Exception):
    """The actor may not manage this person (views answer 404)."""


@dataclass(frozen=True)
class Deactivation:
    staff: StaffMember
    sessions_ended: int
    shifts_removed: int


def admin_of(user: User) -> StaffMember | None:
    """The user's staff row if they are an active program admin, else None."""
    if not user.is_staff_member or not user.is_active:
        return None
    staff = StaffMember.objects.filter(user=user, is_active=True).first()
    if staff is None or staff.role != StaffMember.Role.PROGRAM_ADMIN:
        return None
    return staff


def may_manage(*, actor: User, target: StaffMember) -> bool:
    """A program admin of the same organization, for anyone on its staff but themself."""
    admin = admin_of(actor)
    return (
        admin is not None
        and target.organization_id == admin.organization_id
        and target.user_id != actor.pk
    )


def _audit(*, actor: User, action: Action, obj: StaffMember, request: HttpRequest | None) -> None:
    audit.record(
        request=request,
        actor=actor,
        patient=None,
        action=action,
        category=Category.GENERAL,
        purpose=Purpose.OPERATIONS,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
    )


def _check_programs(admin: StaffMember, programs: Iterable[Program]) -> list[Program]:
    chosen = list(programs)
    mine = set(admin.programs.values_list("pk", flat=True))
    if any(p.pk not in mine or p.organization_id != admin.organization_id for p in chosen):
        raise StaffingError([_("Choose programs from the list.")])
    return chosen


def _username(first_name: str, last_name: str) -> str:
    from tether.patients.services import username_suggest

    return username_suggest(first_name=first_name, last_name=last_name)


def _send_invitation(*, email: str, name: str, invite_url: str, setup_url: str) -> None:
    send_mail(
        _("Your Tether staff account"),
        _(
            "Hello %(name)s,\n\n"
            "You have a staff account on Tether. Two steps, each link works once:\n\n"
            "1. Choose your password (within %(invite_hours)d hours):\n%(invite_url)s\n\n"
            "2. Then, signed in, set up your authenticator app (within %(setup_hours)d "
            "hours):\n%(setup_url)s\n\n"
            "If you did not expect this, ignore it and tell your program admin.\n"
        )
        % {
            "name": name,
            "invite_hours": settings.TETHER_INVITE_VALID_HOURS,
            "invite_url": invite_url,
            "setup_hours": settings.TETHER_STAFF_ENROLMENT_VALID_HOURS,
            "setup_url": setup_url,
        },
        None,
        [email],
    )


def _issue_links(*, staff: StaffMember, actor: User, request: HttpRequest | None) -> None:
    """Fresh password and set-up links (older unused ones stop working), e-mailed after
    the commit."""
    user = staff.user
    issued = account_services.invite_create(user=user, created_by=actor)
    enrolment = account_services.enrolment_link_create(user=user, created_by=actor, request=request)
    site = settings.SITE_URL.rstrip("/")
    invite_url = site + reverse("accounts:invite", args=[issued.token])
    setup_url = site + reverse("accounts:mfa_enrol", args=[enrolment.token])
    email, name = user.email, user.first_name
    transaction.on_commit(
        lambda: _send_invitation(
            email=email, name=name, invite_url=invite_url, setup_url=setup_url
        ),
        robust=True,
    )


def staff_invite(
    *,
    actor: User,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    title: str = "",
    programs: Iterable[Program],
    request: HttpRequest | None = None,
) -> StaffMember:
    """A new colleague: an account with no password, their role and programs, and an
    e-mail with the two links. ``StaffingError`` (nothing saved) for a bad row."""
    admin = admin_of(actor)
    if admin is None:
        raise StaffingRefused
    email = email.strip()
    problems = []
    if not first_name.strip() or not last_name.strip():
        problems.append(_("Give their first and last name."))
    if not email:
        problems.append(_("Give their work e-mail: the invitation is sent there."))
    elif User.objects.annotate(e=Lower("email")).filter(e=email.lower()).exists():
        problems.append(
            _("The e-mail %(email)s already belongs to an account: use another address.")
            % {"email": email}
        )
    if role not in StaffMember.Role.values:
        problems.append(_("Choose a role from the list."))
    chosen = _check_programs(admin, programs)
    if not chosen and role != StaffMember.Role.PRIVACY_OFFICER:
        problems.append(_("Choose at least one program they work in."))
    if problems:
        raise StaffingError(problems)
    with transaction.atomic():
        user = User(
            username=_username(first_name, last_name),
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email,
            kind=User.Kind.STAFF,
            organization_id=admin.organization_id,
        )
        user.set_unusable_password()
        user.save()
        staff = StaffMember.objects.create(
            organization_id=admin.organization_id, user=user, role=role, title=title.strip()
        )
        staff.programs.set(chosen)
        _audit(actor=actor, action=Action.CREATE, obj=staff, request=request)
        _issue_links(staff=staff, actor=actor, request=request)
    return staff


def staff_invite_again(
    *, actor: User, target: StaffMember, request: HttpRequest | None = None
) -> None:
    """Send the invitation again (the old links stop working), for someone who has not
    chosen a password yet."""
    if not may_manage(actor=actor, target=target) or not target.is_active:
        raise StaffingRefused
    if account_services.account_in_use(target.user):
        raise StaffingError([_("They have already chosen a password.")])
    with transaction.atomic():
        _audit(actor=actor, action=Action.UPDATE, obj=target, request=request)
        _issue_links(staff=target, actor=actor, request=request)


def staff_role_set(
    *,
    actor: User,
    target: StaffMember,
    role: str,
    title: str,
    programs: Iterable[Program],
    request: HttpRequest | None = None,
) -> StaffMember:
    """Change a colleague's role, title and programs; the gate uses them at once."""
    admin = admin_of(actor)
    if admin is None or not may_manage(actor=actor, target=target) or not target.is_active:
        raise StaffingRefused
    if role not in StaffMember.Role.values:
        raise StaffingError([_("Choose a role from the list.")])
    chosen = _check_programs(admin, programs)
    # Programs of the organization the admin does not work in stay as they were.
    kept = list(target.programs.exclude(pk__in=admin.programs.values("pk")))
    if not chosen and not kept and role != StaffMember.Role.PRIVACY_OFFICER:
        raise StaffingError([_("Choose at least one program they work in.")])
    with transaction.atomic():
        locked = StaffMember.objects.select_for_update(no_key=True).get(pk=target.pk)
        locked.role = role
        locked.title = title.strip()
        locked.save(update_fields=["role", "title"])
        locked.programs.set([*chosen, *kept])
        _audit(actor=actor, action=Action.UPDATE, obj=locked, request=request)
    return locked


def staff_deactivate(
    *, actor: User, target: StaffMember, request: HttpRequest | None = None
) -> Deactivation:
    """They no longer work here: no sign-in from now on (signed out everywhere, unused
    links stop working), off the on-call rota to come. Their care-team places and
    sessions stay for the clinical lead to hand over (the staff page lists them)."""
    from django.utils import timezone

    if not may_manage(actor=actor, target=target):
        raise StaffingRefused
    if not target.is_active:
        raise StaffingError([_("They are already deactivated.")])
    now = timezone.now()
    user = target.user
    with transaction.atomic():
        locked = StaffMember.objects.select_for_update(no_key=True).get(pk=target.pk)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        User.objects.filter(pk=user.pk).update(is_active=False)
        Invite.objects.filter(user=user, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        StaffEnrolmentLink.objects.filter(
            user=user, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        removed, _details = OnCallShift.objects.filter(
            staff_member=locked, starts_at__gt=now
        ).delete()
        # A shift under way ends now: urgent requests go to the others on call.
        OnCallShift.objects.filter(staff_member=locked, starts_at__lt=now, ends_at__gt=now).update(
            ends_at=now
        )
        _audit(actor=actor, action=Action.UPDATE, obj=locked, request=request)
        ended = account_services.sessions_end(user=user)
    return Deactivation(staff=locked, sessions_ended=ended, shifts_removed=removed)
