"""Writes of the patient's own area: a copy of their record sent where they say.

``record_transmit`` is the (e)(1) *transmit*: the patient's own act under their right to
a copy, not a release by the program, so the gate is asked for ``export`` (the patient's
own copy; the decision table gives the patient no ``disclose``), the copy is kept as a
``RecordTransmission`` (their record's history), audited, and sent by Django's mail
backend with the file attached. A Direct address goes the same way: plain SMTP here, not
a HISP (docs/FHIR.md says what a real Direct exchange would need).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tether.accounts.models import User
from tether.consent.notice import PART2_NOTICE, PART2_NOTICE_SHORT
from tether.portal.models import RecordTransmission
from tether.portal.record import OwnRecord, sent_today
from tether.portal.record_fhir import record_json
from tether.portal.record_pdf import record_pdf
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

# Copies a patient may send in 24 hours: enough for every doctor they see, too few for
# the form to serve as a mail relay.
DAILY_LIMIT = 10


class TooManyCopies(Exception):
    """The patient has sent ``DAILY_LIMIT`` copies in the last 24 hours."""


@dataclass(frozen=True)
class RecordFile:
    name: str
    content: bytes
    mimetype: str


def record_file(record: OwnRecord, *, fmt: str, base: str) -> RecordFile:
    """The file of a download or a copy sent: the PDF or the FHIR Bundle."""
    if fmt == RecordTransmission.Format.FHIR:
        return RecordFile(
            "health-record.fhir.json", record_json(record, base=base), "application/fhir+json"
        )
    return RecordFile("health-record.pdf", record_pdf(record), "application/pdf")


def mail_body(record: OwnRecord) -> str:
    """No name, program or clinical content in the body: those are in the attachment."""
    lines = [
        _(
            "This message carries a copy of a health record that the patient chose to send "
            "to this address from Tether. The record is in the attached file."
        ),
        "",
        _("If it reached you by mistake, please delete it and tell the sender."),
    ]
    if record.part2:
        lines += ["", PART2_NOTICE, "", PART2_NOTICE_SHORT]
    return "\n".join(str(line) for line in lines)


def record_transmit(
    *,
    request: HttpRequest,
    record: OwnRecord,
    sender: User,
    channel: str,
    address: str,
    fmt: str,
    base: str,
) -> RecordTransmission:
    """Send the record (already read through the gate under ``export``) to ``address``.

    One transaction: the kept copy, its audit event and the mail; a mail backend that
    fails undoes both (the patient is told it was not sent)."""
    patient = record.patient
    if sent_today(patient) >= DAILY_LIMIT:
        raise TooManyCopies
    file = record_file(record, fmt=fmt, base=base)
    with transaction.atomic():
        sent = RecordTransmission.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            sent_by=sender,
            channel=channel,
            address=address,
            format=fmt,
            carried_part2_notice=record.part2,
        )
        audit.record(
            request=request,
            actor=sender,
            patient=patient,
            action=Action.EXPORT,
            category=Category.PART2 if record.part2 else Category.GENERAL,
            purpose=Purpose.PATIENT_REQUEST,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=sent,
            relation="self",
        )
        message = EmailMessage(
            subject=str(_("A health record sent by the patient")),
            body=mail_body(record),
            to=[address],
        )
        message.attach(file.name, file.content, file.mimetype)
        message.send()
    return sent
