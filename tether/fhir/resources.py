"""Tether's records as FHIR resources, built and validated by ``fhir.resources``.

The installed ``fhir.resources`` (8.x) models FHIR R5 by default; this API serves R4,
so every resource here comes from its ``R4B`` subpackage (FHIR 4.3.0, whose Patient,
Observation, QuestionnaireResponse, Appointment, Bundle, OperationOutcome and
CapabilityStatement are the R4 structures this API uses) and the CapabilityStatement
declares ``fhirVersion`` 4.0.1 (docs/FHIR.md says so too).

Codes: LOINC codes come from the instrument definitions (``checkins/instruments``,
taken from the project's clinical reference), never written here. The security labels
of Part 2 records are those of ``consent.notice.PART2_SECURITY_LABELS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol, cast

from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.resource import Resource

from tether.checkins.models import Response
from tether.consent.notice import PART2_NOTICE, PART2_SECURITY_LABELS
from tether.patients.models import Patient
from tether.scheduling.models import Attendance

LOINC = "http://loinc.org"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FHIR_VERSION = "4.0.1"

# The LOINC item whose answer is exported as its own Observation (PHQ-9 item 9).
ITEM_OBSERVATIONS = frozenset({"44260-8"})


class AnswerLike(Protocol):
    """What a builder reads of an answer (an ``Answer`` or a row fetched as values)."""

    @property
    def item_code(self) -> str: ...
    @property
    def value(self) -> int | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def answered_at(self) -> dt.datetime: ...


def validated(data: dict[str, Any]) -> Resource:
    """A resource's FHIR JSON (``*_data``) validated by its ``fhir.resources`` model."""
    model = get_fhir_model_class(data["resourceType"])
    return cast(Resource, model.model_validate(data))


def instant(value: dt.datetime) -> str:
    """A FHIR instant as ``fhir.resources`` writes it (UTC as ``Z``), so a resource
    written from its JSON reads the same as one written through its model."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def identifier_system(organization_id: int) -> str:
    """The system of a patient's record number (MRN) in this organization."""
    return f"urn:tether:organization:{organization_id}:record-number"


def security_labels() -> list[dict[str, str]]:
    """meta.security of a Part 2 record: R (restricted), 42CFRPart2, ETH, NORDSCLCD."""
    labels = []
    for code in PART2_SECURITY_LABELS:
        system = V3_CONFIDENTIALITY if code == "R" else V3_ACT_CODE
        labels.append({"system": system, "code": code})
    return labels


def _meta(part2: bool, last_updated: dt.datetime | None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if last_updated is not None:
        meta["lastUpdated"] = instant(last_updated)
    if part2:
        meta["security"] = security_labels()
    return meta


def _notice_text(part2: bool) -> dict[str, str] | None:
    """A Part 2 resource carries the §2.32 notice in its narrative, wherever it goes."""
    if not part2:
        return None
    from django.utils.html import escape

    return {
        "status": "additional",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(PART2_NOTICE)}</p></div>',
    }


def _common(part2: bool, last_updated: dt.datetime | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    meta = _meta(part2, last_updated)
    if meta:
        fields["meta"] = meta
    text = _notice_text(part2)
    if text:
        fields["text"] = text
    return fields


def patient_resource(patient: Patient, *, part2: bool) -> FhirPatient:
    return FhirPatient.model_validate(patient_data(patient, part2=part2))


def patient_data(patient: Patient, *, part2: bool) -> dict[str, Any]:
    """The Patient as FHIR JSON (what ``patient_resource`` validates)."""
    name: dict[str, Any] = {"family": patient.last_name, "given": [patient.first_name]}
    names = [{"use": "official", **name}]
    if patient.preferred_name:
        names.append(
            {"use": "usual", "family": patient.last_name, "given": [patient.preferred_name]}
        )
    return dict(
        resourceType="Patient",
        id=str(patient.pk),
        **_common(part2, patient.created_at),
        identifier=[
            {
                "use": "usual",
                "type": {"text": "Medical record number"},
                "system": identifier_system(patient.organization_id),
                "value": patient.record_number,
            }
        ],
        name=names,
        birthDate=patient.date_of_birth.isoformat(),
    )


def _answer_value(response: Response, answer: AnswerLike) -> dict[str, Any] | None:
    spec = response.instrument.spec
    try:
        item = spec.item(answer.item_code)
    except (KeyError, ValueError, LookupError):
        return None
    if item.kind == "text":
        return {"valueString": answer.text} if answer.text else None
    if answer.value is None:
        return None
    option = item.option_for(answer.value) if item.kind == "choice" else None
    if option is not None and option.loinc:
        return {"valueCoding": {"system": LOINC, "code": option.loinc, "display": option.label}}
    if option is not None:
        return {"valueCoding": {"code": str(option.value), "display": option.label}}
    return {"valueInteger": answer.value}


def questionnaire_url(base: str, response: Response) -> str:
    return f"{base}/Questionnaire/{response.instrument.code}-v{response.instrument.version}"


_RESPONSE_STATUS = {
    Response.Status.COMPLETE: "completed",
    Response.Status.INCOMPLETE: "stopped",
    Response.Status.DRAFT: "in-progress",
}


def questionnaire_response_resource(
    response: Response, answers: Iterable[AnswerLike], *, part2: bool, base: str
) -> QuestionnaireResponse:
    return QuestionnaireResponse.model_validate(
        questionnaire_response_data(response, answers, part2=part2, base=base)
    )


def questionnaire_response_data(
    response: Response, answers: Iterable[AnswerLike], *, part2: bool, base: str
) -> dict[str, Any]:
    """The QuestionnaireResponse as FHIR JSON (what ``questionnaire_response_resource``
    validates): its answers in the order they were given, with their codes."""
    spec = response.instrument.spec
    items = []
    for answer in sorted(answers, key=lambda a: a.answered_at):
        value = _answer_value(response, answer)
        if value is None:
            continue
        try:
            item = spec.item(answer.item_code)
        except (KeyError, ValueError, LookupError):
            continue
        items.append({"linkId": item.code, "text": item.text, "answer": [value]})
    status = _RESPONSE_STATUS[Response.Status(response.status)]
    data = dict(
        resourceType="QuestionnaireResponse",
        id=str(response.pk),
        **_common(part2, response.submitted_at),
        identifier={"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{response.key}"},
        questionnaire=questionnaire_url(base, response),
        status=status,
        subject={"reference": f"Patient/{response.patient_id}"},
        authored=instant(response.submitted_at or response.started_at),
        author={"reference": f"Patient/{response.patient_id}"},
    )
    if items:
        data["item"] = items
    return data


def observation_resources(
    response: Response, answers: Iterable[AnswerLike], *, part2: bool
) -> list[Observation]:
    return [
        Observation.model_validate(data)
        for data in observation_data(response, answers, part2=part2)
    ]


def observation_data(
    response: Response, answers: Iterable[AnswerLike], *, part2: bool
) -> list[dict[str, Any]]:
    """The scores of a completed measure: its total (LOINC ``loinc_total``) and PHQ-9
    item 9 (LOINC 44260-8) as survey Observations. Nothing for an incomplete one."""
    instrument = response.instrument
    if response.status != Response.Status.COMPLETE or response.submitted_at is None:
        return []
    common = {
        "resourceType": "Observation",
        **_common(part2, response.submitted_at),
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "subject": {"reference": f"Patient/{response.patient_id}"},
        "effectiveDateTime": instant(response.submitted_at),
        "issued": instant(response.submitted_at),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{response.pk}"}],
    }
    found: list[dict[str, Any]] = []
    if instrument.loinc_total and response.total is not None:
        band = instrument.spec.band_for(response.total)
        total: dict[str, Any] = {
            **common,
            "id": f"{response.pk}-total",
            "code": {
                "coding": [
                    {
                        "system": LOINC,
                        "code": instrument.loinc_total,
                        "display": f"{instrument.short_name} total score",
                    }
                ],
                "text": f"{instrument.short_name} total score",
            },
            "valueInteger": response.total,
        }
        if band is not None:
            total["interpretation"] = [{"text": str(band.label)}]
        found.append(total)
    for answer in answers:
        try:
            item = instrument.spec.item(answer.item_code)
        except (KeyError, ValueError, LookupError):
            continue
        if item.loinc not in ITEM_OBSERVATIONS or answer.value is None:
            continue
        option = item.option_for(answer.value)
        value: dict[str, Any] = {"text": option.label if option else str(answer.value)}
        if option is not None and option.loinc:
            value["coding"] = [{"system": LOINC, "code": option.loinc, "display": option.label}]
        found.append(
            dict(
                **common,
                id=f"{response.pk}-item-{item.code}",
                code={"coding": [{"system": LOINC, "code": item.loinc}], "text": item.text},
                valueCodeableConcept=value,
            )
        )
    return found


_APPOINTMENT_STATUS = {
    Attendance.Status.SCHEDULED: "booked",
    Attendance.Status.ATTENDED: "fulfilled",
    Attendance.Status.LATE: "fulfilled",
    Attendance.Status.LEFT_EARLY: "fulfilled",
    Attendance.Status.ABSENT: "noshow",
    Attendance.Status.EXCUSED: "noshow",
}


def appointment_resource(attendance: Attendance, *, part2: bool) -> FhirAppointment:
    return FhirAppointment.model_validate(appointment_data(attendance, part2=part2))


def appointment_data(
    attendance: Attendance, *, part2: bool, kind_text: dict[str, str] | None = None
) -> dict[str, Any]:
    """One patient's place in a session (what ``appointment_resource`` validates). A
    group session lists only this patient: the other members are never named to an
    outside system. ``kind_text``: the kinds' names already translated, kept by the
    caller across a page (a translation per row is slow)."""
    appointment = attendance.appointment
    status = _APPOINTMENT_STATUS.get(Attendance.Status(attendance.status), "booked")
    if appointment.is_cancelled:
        status = "cancelled"
    participants: list[dict[str, Any]] = [
        {
            "actor": {"reference": f"Patient/{attendance.patient_id}"},
            "status": "accepted",
        }
    ]
    if appointment.clinician is not None:
        participants.append(
            {
                "actor": {"display": appointment.clinician.user.get_full_name()},
                "status": "accepted",
            }
        )
    if kind_text is None:
        kind_text = {}
    if appointment.kind not in kind_text:
        kind_text[appointment.kind] = str(appointment.get_kind_display())
    return dict(
        resourceType="Appointment",
        id=str(attendance.pk),
        **_common(part2, appointment.changed_at),
        status=status,
        serviceType=[{"text": kind_text[appointment.kind]}],
        description=appointment.title,
        start=instant(appointment.starts_at),
        end=instant(appointment.ends_at),
        minutesDuration=max(
            1, int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
        ),
        participant=participants,
    )


def operation_outcome(
    severity: str, code: str, text: str, *, expression: list[str] | None = None
) -> OperationOutcome:
    issue: dict[str, Any] = {"severity": severity, "code": code, "details": {"text": text}}
    if expression:
        issue["expression"] = expression
    return OperationOutcome.model_validate(dict(issue=[issue]))


def operation_outcome_issues(severity: str, code: str, texts: list[str]) -> OperationOutcome:
    """One issue per text (the import service's problems, each its own issue)."""
    return OperationOutcome.model_validate(
        dict(
            issue=[
                {"severity": severity, "code": code, "details": {"text": text}}
                for text in texts or [code]
            ]
        )
    )


def searchset(
    *,
    resources: list[Resource],
    total: int,
    self_url: str,
    next_url: str | None,
    base: str,
    outcome: OperationOutcome | None = None,
) -> Bundle:
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{base}/{resource.get_resource_type()}/{resource.id}",
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in resources
    ]
    if outcome is not None:
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return Bundle.model_validate(
        dict(
            type="searchset",
            timestamp=timezone.now().isoformat(),
            total=total,
            link=links,
            entry=entries or None,
        )
    )
