"""Reads for consent pages (callers have passed the gate for the patient first)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tether.consent.models import Amendment, ConsentDirective, Disclosure
from tether.patients.models import Patient
from tether.privacy.gate import decide, record_category_for
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from tether.accounts.models import User

ACCOUNTING_YEARS = 3  # §2.25: disclosures of the previous 3 years


def _when(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value), "F j, Y, g:i a")
    return date_format(value, "F j, Y")


def consent_terms(consent: ConsentDirective) -> list[tuple[str, str]]:
    """The consent's §2.31 elements as (label, value), in order: what the printable page
    (``consent/includes/consent_text.html``) and the PDF (``consent/pdf.py``) both show."""
    if consent.recipient is not None:
        recipient = f"{consent.recipient} ({consent.recipient.get_kind_display()})"
    else:
        recipient = consent.recipient_class
    ends = " ".join(part for part in (_when(consent.expires_on), consent.expiry_event) if part)
    signed = _("%(name)s, on %(when)s") % {
        "name": consent.signature_name,
        "when": _when(consent.signed_at),
    }
    terms = [
        (_("Patient"), consent.patient.display_name),
        (_("Who may share it"), consent.discloser),
        (_("Who may receive it"), recipient),
        (_("What may be shared"), f"{consent.get_category_display()}: {consent.description}"),
        (_("Why"), str(consent.get_purpose_display())),
        (_("Ends"), ends),
        (_("Your right to take it back"), consent.revoke_statement),
        (_("Sharing it again"), consent.redisclosure_statement),
        (_("If you do not sign"), consent.refusal_statement),
        (_("Signed"), f"{signed} ({consent.get_signed_via_display()})"),
    ]
    entry = staff_entry_text(consent)
    if entry:
        terms.append((_("Entered by staff"), entry))
    if consent.revoked_at is not None:
        terms.append((_("Taken back"), _when(consent.revoked_at)))
    return terms


def staff_entry_text(consent: ConsentDirective) -> str:
    """For a consent signed on a staff device: who entered it, who witnessed it, and how
    the patient confirmed it (shown to the patient and on the printed copy)."""
    if consent.signed_via != ConsentDirective.SignedVia.STAFF_DEVICE:
        return ""
    Confirmed = ConsentDirective.PatientConfirmed
    if consent.patient_confirmed == Confirmed.UNRECORDED or consent.entered_by is None:
        return _(
            "Entered on a staff device. Who witnessed it and how you confirmed it was not "
            "recorded: ask the privacy officer if you did not sign it."
        )
    names = {
        "entered": consent.entered_by.get_full_name(),
        "witness": consent.witnessed_by.get_full_name() if consent.witnessed_by else "",
    }
    if consent.patient_confirmed == Confirmed.IN_PERSON:
        return _(
            "Entered by %(entered)s, witnessed by %(witness)s, in person (identity checked: "
            "%(document)s)."
        ) % {**names, "document": consent.get_identity_document_display()}
    return (
        _(
            "Entered by %(entered)s, witnessed by %(witness)s; you confirmed it with your own "
            "password."
        )
        % names
    )


def consents_of(patient: Patient) -> list[ConsentDirective]:
    return list(
        ConsentDirective.objects.filter(patient=patient).select_related(
            "recipient", "entered_by", "witnessed_by"
        )
    )


def disclosures_of(patient: Patient) -> QuerySet[Disclosure]:
    since = timezone.now() - dt.timedelta(days=365 * ACCOUNTING_YEARS + 1)
    return Disclosure.objects.filter(patient=patient, disclosed_at__gte=since).select_related(
        "recipient", "disclosed_by"
    )


def sharing_summary(patient: Patient) -> dict[str, int]:
    """For the patient's home page: how many consents are in force (one query)."""
    count = (
        ConsentDirective.objects.filter(patient=patient, revoked_at__isnull=True)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=timezone.localdate()))
        .count()
    )
    return {"in_force": count}


def staff_summary(*, user: User, patient: Patient) -> dict[str, Any] | None:
    """For the staff patient page: consents in force, pending corrections, Part 2 status.

    Shown only to those who may read the clinical record; the linked pages ask the gate
    again (audited).
    """
    if not decide(user, patient, category=Category.MENTAL_HEALTH, action=Action.VIEW).allowed:
        return None
    from tether.consent.packet import packet_categories

    return {
        # The utilization-review packet is released by the care team only (the gate's
        # "disclose" on each category it holds); others are told how to get there.
        "releases_packet": all(
            decide(user, patient, category=category, action=Action.DISCLOSE).allowed
            for category in packet_categories(patient)
        ),
        "consents": sharing_summary(patient)["in_force"],
        "pending_corrections": Amendment.objects.filter(
            patient=patient, status=Amendment.Status.REQUESTED
        ).count(),
        "part2": record_category_for(patient, Category.MENTAL_HEALTH) == Category.PART2,
    }
