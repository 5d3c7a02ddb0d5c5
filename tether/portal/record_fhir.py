"""The patient's own record as a FHIR R4 Bundle (type ``collection``), for another system.

Built with the FHIR API's resource builders (``tether.fhir.resources``: Patient,
QuestionnaireResponse, Observation with the LOINC codes of the instrument files,
Appointment) and validated by ``fhir.resources`` (R4B models, like the API). What has no
structured FHIR form here (the accounting of disclosures, the safety plan, the homework,
the messages, the consents and the copies sent) travels as ``DocumentReference``
resources holding a plain-text attachment, so the file carries the whole record the
patient sees.

A record with Part 2 content labels every resource (``meta.security``: R, 42CFRPart2, ETH,
NORDSCLCD) and carries the §2.32 notice in each resource's narrative, like the API; the
Bundle itself is labelled too.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.resource import Resource

from tether.fhir import resources as fhir
from tether.portal.record import OwnRecord
from tether.portal.record_pdf import author_words, consent_state_words, when


def text_document(
    *, key: str, title: str, lines: list[str], record: OwnRecord
) -> DocumentReference:
    """A part of the record with no structured FHIR form, as a plain-text attachment."""
    text = "\n".join(lines) if lines else str(_("None."))
    fields: dict[str, Any] = {}
    if record.part2:
        fields["meta"] = {"security": fhir.security_labels()}
        fields["text"] = fhir._notice_text(True)
    return DocumentReference.model_validate(
        dict(
            id=f"{record.patient.pk}-{key}",
            **fields,
            status="current",
            type={"text": title},
            subject={"reference": f"Patient/{record.patient.pk}"},
            date=record.generated_at.isoformat(),
            description=title,
            content=[
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "language": "en",
                        "title": title,
                        "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                    }
                }
            ],
        )
    )


def _documents(record: OwnRecord) -> list[DocumentReference]:
    disclosures = [
        f"{when(d.disclosed_at)} · {d.get_kind_display()} · {d.recipient} · "
        f"{d.get_category_display()} · {d.get_purpose_display()}"
        for d in record.disclosures
    ]
    plan: list[str] = []
    if record.safety_plan is not None:
        for step in record.safety_plan.steps():
            plan += [step["title"], step["text"] or "—", ""]
    homework = [f"{a.title} · {when(a.due_on)} · {a.display_status}" for a in record.homework]
    messages = [f"{when(m.created_at)} · {author_words(m)}: {m.body}" for m in record.messages]
    consents = [
        f"{c.recipient or c.recipient_class} · {c.get_category_display()} · "
        f"{when(c.signed_at)} · {consent_state_words(c.state)}"
        for c in record.consents
    ]
    sent = [
        f"{when(t.sent_at)} · {t.get_channel_display()} · {t.address} · {t.get_format_display()}"
        for t in record.transmissions
    ]
    return [
        text_document(
            key="disclosures",
            title=str(_("What was shared, and with whom (accounting of disclosures)")),
            lines=disclosures,
            record=record,
        ),
        text_document(key="safety-plan", title=str(_("My safety plan")), lines=plan, record=record),
        text_document(key="homework", title=str(_("Homework")), lines=homework, record=record),
        text_document(
            key="messages",
            title=str(_("Messages with my care team")),
            lines=messages,
            record=record,
        ),
        text_document(
            key="consents", title=str(_("My consents to share")), lines=consents, record=record
        ),
        text_document(
            key="copies-sent",
            title=str(_("Copies of this record you sent")),
            lines=sent,
            record=record,
        ),
    ]


def record_bundle(record: OwnRecord, *, base: str) -> Bundle:
    """The record as a Bundle. ``base``: the FHIR base URL (``https://host/fhir/R4``)."""
    part2 = record.part2
    found: list[Resource] = [fhir.patient_resource(record.patient, part2=part2)]
    for row in [*record.measures, *record.checkins]:
        answers = record.answers.get(row.response.pk, [])
        found.append(
            fhir.questionnaire_response_resource(row.response, answers, part2=part2, base=base)
        )
        found.extend(fhir.observation_resources(row.response, answers, part2=part2))
    for attendance in record.sessions:
        found.append(fhir.appointment_resource(attendance, part2=part2))
    found.extend(_documents(record))
    bundle: dict[str, Any] = dict(
        identifier={"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        type="collection",
        timestamp=timezone.now().isoformat(),
        entry=[{"fullUrl": f"{base}/{r.get_resource_type()}/{r.id}", "resource": r} for r in found],
    )
    if part2:
        bundle["meta"] = {"security": fhir.security_labels()}
    return Bundle.model_validate(bundle)


def record_json(record: OwnRecord, *, base: str) -> bytes:
    return record_bundle(record, base=base).model_dump_json(exclude_none=True, indent=2).encode()
