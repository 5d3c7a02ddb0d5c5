"""Writes for consent: sign, revoke, record a disclosure, push a care-coordination update.

Each runs in a transaction with its audit event (ids and codes only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tether.accounts.models import IdentityDocument
from tether.consent.models import Amendment, ConsentDirective, Disclosure, Recipient
from tether.consent.notice import PART2_NOTICE
from tether.patients.models import Proxy
from tether.privacy import audit
from tether.privacy.gate import consent_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.consent.packet import Packet
    from tether.patients.models import Patient

# Age from which a patient decides their family's access themself (*secondary*: state
# law on minors' consent varies; a program's policy may set a lower age).
ADULT_AGE = 18


class ConsentRefused(Exception):
    """No consent in force covers this release: nothing was sent."""


class ConsentNotConfirmed(Exception):
    """On a staff device, the patient's own step is missing or wrong (their password, or
    the identity document checked in person): nothing was signed."""


class MinorConsentRefused(Exception):
    """A consent for a patient under 18 is not entered on a staff device.

    Who signs a minor's Part 2 consent (the minor, a parent, or both) depends on 42 CFR
    2.14 and state law, which the project's reference does not state: unverified. Until
    it does, the program takes such a consent on paper with its privacy officer.
    """


# Staff-entered consents: who may enter one is the care team only, asked of the gate as
# CREATE on the mental-health record (care team only in the decision table), and CREATE
# on Part 2 when the consent covers Part 2. docs/PRIVACY.md, "Writes the table alone does
# not decide".
STAFF_ENTRY_CATEGORY = Category.MENTAL_HEALTH
WITNESS = "witness"  # the audit event's acting_as for a consent entered on a staff device


def revoke_statement() -> str:
    return _(
        "You can take back (revoke) this consent at any time, on the Sharing page of your "
        "portal or by telling your care team. It stops at once for anything not yet sent."
    )


def redisclosure_statement() -> str:
    return _(
        "Information shared under this consent may not be shared again by the person who "
        "receives it, except as federal law (42 CFR part 2) allows."
    )


def refusal_statement() -> str:
    return _(
        "You do not have to sign. Your treatment here does not depend on it. If you do not "
        "sign, this information is not shared with this person."
    )


# Who may add recipients outside the program: the people who send care-coordination
# updates. Not the front desk, program admins, on-call or privacy officers (docs/PRIVACY.md,
# "Writes the table alone does not decide").
RECIPIENT_ROLES = frozenset({"clinician", "clinical_lead"})


class RecipientRefused(Exception):
    """This person may not add recipients."""


def recipient_create(
    *,
    organization_id: int,
    name: str,
    recipient_organization: str,
    kind: str,
    created_by: User,
    payer_identifier: str = "",
    plan_identifier: str = "",
) -> Recipient:
    """Add a recipient; a payer (kind ``health_plan``) with its payer ID and plan number."""
    staff = getattr(created_by, "staff_member", None) if created_by.is_staff_member else None
    if (
        staff is None
        or not staff.is_active
        or staff.role not in RECIPIENT_ROLES
        or staff.organization_id != organization_id
    ):
        raise RecipientRefused
    with transaction.atomic():
        recipient = Recipient.objects.create(
            organization_id=organization_id,
            name=name,
            recipient_organization=recipient_organization,
            kind=kind,
            payer_identifier=payer_identifier if kind == Recipient.Kind.HEALTH_PLAN else "",
            plan_identifier=plan_identifier if kind == Recipient.Kind.HEALTH_PLAN else "",
        )
        audit.record(
            request=None,
            actor=created_by,
            patient=None,
            action=Action.CREATE,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=recipient,
        )
    return recipient


def consent_sign(
    *,
    patient: Patient,
    signed_by: User,
    recipient: Recipient | None,
    recipient_class: str = "",
    category: Category,
    description: str,
    purpose: Purpose,
    discloser: str,
    expires_on: dt.date | None,
    expiry_event: str = "",
    signature_name: str,
    signed_via: ConsentDirective.SignedVia = ConsentDirective.SignedVia.PORTAL,
    patient_confirmed: str = "",
    identity_document: str = "",
) -> ConsentDirective:
    """The patient signs a consent (every §2.31 element is required).

    In the portal ``signed_by`` is the patient. On a staff device use
    ``consent_enter_on_staff_device``, which checks the patient's own step first.
    """
    staff_device = signed_via == ConsentDirective.SignedVia.STAFF_DEVICE
    if not staff_device and signed_by.pk != patient.user_id:
        raise ValueError("only the patient signs in the portal")
    if staff_device and patient_confirmed not in (
        ConsentDirective.PatientConfirmed.PATIENT_PASSWORD,
        ConsentDirective.PatientConfirmed.IN_PERSON,
    ):
        raise ConsentNotConfirmed
    if recipient is None and not recipient_class.strip():
        raise ValueError("a consent names a recipient or a class of recipients")
    if recipient is not None and recipient.organization_id != patient.organization_id:
        raise ValueError("recipient of another organization")
    if expires_on is None and not expiry_event.strip():
        raise ValueError("a consent has an end date or event")
    if not description.strip() or not signature_name.strip() or not discloser.strip():
        raise ValueError("description, discloser and signature are required")
    with transaction.atomic():
        consent = ConsentDirective.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            discloser=discloser,
            recipient=recipient,
            recipient_class=recipient_class,
            category=category.value,
            description=description,
            purpose=purpose.value,
            expires_on=expires_on,
            expiry_event=expiry_event,
            revoke_statement=revoke_statement(),
            redisclosure_statement=redisclosure_statement(),
            refusal_statement=refusal_statement(),
            signature_name=signature_name,
            signed_at=timezone.now(),
            signed_via=signed_via,
            witnessed_by=signed_by if staff_device else None,
            entered_by=signed_by if staff_device else None,
            patient_confirmed=patient_confirmed if staff_device else "",
            identity_document=identity_document if staff_device else "",
        )
        audit.record(
            request=None,
            actor=signed_by,
            patient=patient,
            action=Action.CREATE,
            category=category,
            purpose=Purpose.PATIENT_REQUEST,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=consent,
            acting_as=WITNESS if staff_device else "",
        )
        if staff_device:
            _notify_staff_entry(consent=consent, entered_by=signed_by)
    return consent


def _notify_staff_entry(*, consent: ConsentDirective, entered_by: User) -> None:
    """The organization's privacy officers see every consent entered by staff."""
    from tether.accounts.models import User
    from tether.notifications.models import Notification
    from tether.notifications.services import notify
    from tether.organizations.models import StaffMember

    officers = User.objects.filter(
        staff_member__organization_id=consent.organization_id,
        staff_member__role=StaffMember.Role.PRIVACY_OFFICER,
        staff_member__is_active=True,
        is_active=True,
    ).exclude(pk=entered_by.pk)
    notify(
        recipients=officers,
        kind=Notification.Kind.CONSENT_STAFF_ENTERED,
        organization=consent.patient.organization,
        actor=entered_by,
        patient=consent.patient,
        consent=consent,
    )


def consent_enter_on_staff_device(
    *,
    request: HttpRequest,
    patient: Patient,
    entered_by: User,
    patient_confirmed: str,
    patient_password: str = "",
    identity_document: str = "",
    recipient: Recipient | None,
    category: Category,
    description: str,
    purpose: Purpose,
    discloser: str,
    expires_on: dt.date | None,
    signature_name: str,
) -> ConsentDirective:
    """A consent the patient signs on a staff device, witnessed by ``entered_by``.

    The patient does a step only they can do (42 CFR 2.31: a consent is the patient's
    own act): they type their own password (checked against their account, and counted
    by the sign-in lockout), or they sign in person and the witness records the identity
    document checked. Refused for a patient under 18 (``MinorConsentRefused``). The
    caller has asked the gate (care team only). Audited with acting-as ``witness``; the
    privacy officers are notified.
    """
    if patient.age_on(timezone.localdate()) < ADULT_AGE:
        raise MinorConsentRefused
    if patient_confirmed == ConsentDirective.PatientConfirmed.PATIENT_PASSWORD:
        identity_document = ""
        account = patient.user
        if account is None or not account.is_active or not patient_password:
            raise ConsentNotConfirmed
        checked = authenticate(request, username=account.get_username(), password=patient_password)
        if checked is None or checked.pk != account.pk:
            raise ConsentNotConfirmed
    elif patient_confirmed == ConsentDirective.PatientConfirmed.IN_PERSON:
        if identity_document not in IdentityDocument.values:
            raise ConsentNotConfirmed
    else:
        raise ConsentNotConfirmed
    return consent_sign(
        patient=patient,
        signed_by=entered_by,
        recipient=recipient,
        category=category,
        description=description,
        purpose=purpose,
        discloser=discloser,
        expires_on=expires_on,
        signature_name=signature_name,
        signed_via=ConsentDirective.SignedVia.STAFF_DEVICE,
        patient_confirmed=patient_confirmed,
        identity_document=identity_document,
    )


def consent_revoke(*, consent: ConsentDirective, revoked_by: User) -> ConsentDirective:
    """Revoke at once. Revoking twice keeps the first time."""
    with transaction.atomic():
        locked = ConsentDirective.objects.select_for_update(no_key=True).get(pk=consent.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
        audit.record(
            request=None,
            actor=revoked_by,
            patient=locked.patient,
            action=Action.UPDATE,
            category=Category(locked.category),
            purpose=Purpose.PATIENT_REQUEST,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=locked,
        )
    return locked


def notice_for(category: Category) -> str:
    """The notice a disclosure carries: §2.32 statement 1 for Part 2 records."""
    if category == Category.PART2:
        return PART2_NOTICE
    return _(
        "This information is shared with the patient's written consent. Do not share it "
        "further without the patient's permission."
    )


def _disclose(
    *,
    patient: Patient,
    recipient: Recipient,
    kind: Disclosure.Kind,
    category: Category,
    sent_by: User,
    content: Callable[[str, dt.datetime], str],
) -> Disclosure:
    """Record one release outside the program, or raise ``ConsentRefused``.

    The consent is checked inside the transaction, so a consent revoked a moment ago
    (still showing in someone's open tab) refuses the release. ``content(notice, now)``
    builds what is sent; the disclosure carries the notice and is audited as a
    disclosure (``Action.DISCLOSE``).
    A refusal is audited as denied (the trail commits denied events durably).
    """
    with transaction.atomic():
        consent = consent_for(patient, recipient, category)
        if consent is not None:
            now = timezone.now()
            notice = notice_for(category)
            disclosure = Disclosure.objects.create(
                organization_id=patient.organization_id,
                patient=patient,
                recipient=recipient,
                consent=consent,
                kind=kind.value,
                category=category.value,
                purpose=consent.purpose,
                content=content(notice, now),
                notice=notice,
                disclosed_by=sent_by,
                disclosed_at=now,
            )
            audit.record(
                request=None,
                actor=sent_by,
                patient=patient,
                action=Action.DISCLOSE,
                category=category,
                purpose=Purpose(consent.purpose),
                outcome=AuditEvent.Outcome.ALLOWED,
                obj=disclosure,
            )
            return disclosure
    audit.record(
        request=None,
        actor=sent_by,
        patient=patient,
        action=Action.DISCLOSE,
        category=category,
        purpose=Purpose.TREATMENT,
        outcome=AuditEvent.Outcome.DENIED,
        obj=recipient,
    )
    raise ConsentRefused


def coordination_send(
    *,
    patient: Patient,
    recipient: Recipient,
    kind: Disclosure.Kind,
    category: Category,
    content: str,
    sent_by: User,
) -> Disclosure:
    """Push one care-coordination update, or raise ``ConsentRefused`` (audited as denied)."""
    return _disclose(
        patient=patient,
        recipient=recipient,
        kind=kind,
        category=category,
        sent_by=sent_by,
        content=lambda notice, now: content,
    )


class NothingToExport(Exception):
    """The patient has no completed measure to export: nothing was sent."""


def measure_history_send(*, patient: Patient, recipient: Recipient, sent_by: User) -> Disclosure:
    """Export the patient's PHQ-9 and GAD-7 history to ``recipient`` as a disclosure.

    The file's category is the label its responses got at capture (Part 2 in a Part 2
    program); it goes only with a consent in force for that category and recipient,
    else ``ConsentRefused`` (audited as denied). The notice is the file's first line.
    """
    from tether.consent import export

    rows = export.measure_rows(patient=patient)
    if not rows:
        raise NothingToExport
    category = export.category_of(rows)
    return _disclose(
        patient=patient,
        recipient=recipient,
        kind=Disclosure.Kind.MEASURE_HISTORY,
        category=category,
        sent_by=sent_by,
        content=lambda notice, now: export.measure_file(
            patient=patient,
            rows=rows,
            category=category,
            notice=notice,
            sender=str(patient.organization),
            recipient=str(recipient),
            sent_at=timezone.localtime(now).isoformat(timespec="minutes"),
        ),
    )


class ScopeChangeRefused(Exception):
    """This person may not change this proxy's scopes."""


def proxy_scope_set(*, proxy: Proxy, scope: Proxy.Scope, granted: bool, changed_by: User) -> Proxy:
    """Grant or revoke one scope of a family member's access.

    An adult patient changes their own proxies' scopes. An adolescent's are set by the
    program's policy (staff), with the adolescent's assent recorded.
    """
    patient = proxy.patient
    adult = patient.age_on(timezone.localdate()) >= ADULT_AGE
    if adult and changed_by.pk != patient.user_id:
        raise ScopeChangeRefused
    if not adult and not changed_by.is_staff_member:
        raise ScopeChangeRefused
    with transaction.atomic():
        locked = Proxy.objects.select_for_update(no_key=True).get(pk=proxy.pk)
        setattr(locked, f"scope_{scope.value}", granted)
        fields = [f"scope_{scope.value}"]
        if not adult:
            locked.assent_recorded_at = timezone.now()
            fields.append("assent_recorded_at")
        locked.save(update_fields=fields)
        audit.record(
            request=None,
            actor=changed_by,
            patient=patient,
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.PATIENT_REQUEST if adult else Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=locked,
        )
    return locked


def amendment_request(
    *, patient: Patient, about: str, correction: str, requested_by: User
) -> Amendment:
    if not about.strip() or not correction.strip():
        raise ValueError("an amendment says what is wrong and what it should say")
    with transaction.atomic():
        amendment = Amendment.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            about=about,
            correction=correction,
        )
        audit.record(
            request=None,
            actor=requested_by,
            patient=patient,
            action=Action.CREATE,
            category=Category.MENTAL_HEALTH,
            purpose=Purpose.PATIENT_REQUEST,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=amendment,
        )
    return amendment


def amendment_decide(
    *, amendment: Amendment, accept: bool, note: str, decided_by: User
) -> Amendment:
    """Accept (the correction is appended to the record) or deny with a reason (appended
    too). A decision is final: deciding twice is refused."""
    if not accept and not note.strip():
        raise ValueError("a denial gives its reason")
    with transaction.atomic():
        locked = Amendment.objects.select_for_update(no_key=True).get(pk=amendment.pk)
        if locked.status != Amendment.Status.REQUESTED:
            raise ValueError("already decided")
        locked.status = Amendment.Status.ACCEPTED if accept else Amendment.Status.DENIED
        locked.decided_by = decided_by
        locked.decided_at = timezone.now()
        locked.decision_note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record(
            request=None,
            actor=decided_by,
            patient=locked.patient,
            action=Action.UPDATE,
            category=Category.MENTAL_HEALTH,
            purpose=Purpose.TREATMENT,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=locked,
        )
    return locked


# --- The utilization-review packet (issue 17) --------------------------------------------


class PacketRefused(Exception):
    """No consent in force lets this payer receive every category the packet holds:
    nothing was released. ``missing`` names the categories without one."""

    def __init__(self, missing: list[Category]) -> None:
        super().__init__(", ".join(c.value for c in missing))
        self.missing = missing


class NotAPayer(Exception):
    """The packet goes to a payer (a recipient of kind ``health_plan``) only."""


def _refuse_packet(
    *, patient: Patient, recipient: Recipient, sent_by: User, categories: list[Category]
) -> None:
    for category in categories:
        audit.record(
            request=None,
            actor=sent_by,
            patient=patient,
            action=Action.DISCLOSE,
            category=category,
            purpose=Purpose.PAYMENT,
            outcome=AuditEvent.Outcome.DENIED,
            obj=recipient,
        )


def ur_packet_send(
    *,
    patient: Patient,
    recipient: Recipient,
    period_start: dt.date,
    period_end: dt.date,
    summary: str,
    sent_by: User,
) -> Disclosure:
    """Release the utilization-review packet (a PDF) to a payer, as one disclosure.

    Refused, audited as denied and with nothing released: a period that ends before it
    starts (``packet.PeriodRefused``), a recipient who is not a payer (``NotAPayer``), or
    any category the packet holds without a consent in force naming this payer
    (``PacketRefused``; one denied event per category). With consent: one ``Disclosure``
    filed under the strictest category, the PDF kept as sent, the notice on its first
    page, and a disclosure event per category. The consents are looked up inside the
    transaction, so a consent revoked a moment ago refuses the release.
    """
    import base64

    from tether.consent import packet as packets
    from tether.consent.packet_pdf import packet_pdf

    categories = packets.packet_categories(patient)
    period = packets.Period(period_start, period_end)
    try:
        period.check(today=timezone.localdate())
        if not recipient.is_payer or recipient.organization_id != patient.organization_id:
            raise NotAPayer
    except (packets.PeriodRefused, NotAPayer):
        _refuse_packet(
            patient=patient, recipient=recipient, sent_by=sent_by, categories=categories[:1]
        )
        raise
    with transaction.atomic():
        consents = {c: consent_for(patient, recipient, c) for c in categories}
        missing = [c for c, consent in consents.items() if consent is None]
        if not missing:
            now = timezone.now()
            primary = categories[0]
            notice = notice_for(primary)
            found = [consent for consent in consents.values() if consent is not None]
            data = packets.build_packet(patient=patient, period=period, summary=summary)
            sent_at = date_format(timezone.localtime(now), "M j, Y, g:i a")
            document = packet_pdf(
                data,
                notice=notice,
                sender=str(patient.organization),
                recipient=recipient,
                consents=found,
                sent_at=sent_at,
                sent_by=sent_by.get_full_name(),
            )
            disclosure = Disclosure.objects.create(
                organization_id=patient.organization_id,
                patient=patient,
                recipient=recipient,
                consent=consents[primary],
                kind=Disclosure.Kind.UR_PACKET.value,
                category=primary.value,
                purpose=found[0].purpose,
                content=_packet_text(data, consents=found, sent_at=sent_at),
                notice=notice,
                document=base64.b64encode(document).decode("ascii"),
                disclosed_by=sent_by,
                disclosed_at=now,
            )
            for category, consent in consents.items():
                assert consent is not None  # noqa: S101 - none missing here
                audit.record(
                    request=None,
                    actor=sent_by,
                    patient=patient,
                    action=Action.DISCLOSE,
                    category=category,
                    purpose=Purpose(consent.purpose),
                    outcome=AuditEvent.Outcome.ALLOWED,
                    obj=disclosure,
                )
            return disclosure
    _refuse_packet(patient=patient, recipient=recipient, sent_by=sent_by, categories=missing)
    raise PacketRefused(missing)


def _packet_text(data: Packet, *, consents: list[ConsentDirective], sent_at: str) -> str:
    """What the packet held, in words, for the page of the disclosure (the PDF is kept)."""
    lines = [
        _("Utilization-review packet, %(start)s to %(end)s, prepared %(when)s.")
        % {
            "start": data.period.start.isoformat(),
            "end": data.period.end.isoformat(),
            "when": sent_at,
        },
        _(
            "Holds: level of care and dates, attendance, PHQ-9 and GAD-7 scores with the trend, "
            "engagement between sessions, and the clinician's summary."
        ),
        _("Released under consent: %(ids)s.")
        % {"ids": ", ".join(f"#{c.pk} ({c.get_category_display()})" for c in consents)},
        "",
        _("Clinician's summary:"),
        data.summary,
    ]
    return "\n".join(lines)
