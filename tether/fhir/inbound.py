"""Writes from a registered system (an EHR): Appointments into the schedule and a known
patient's demographics.

**Appointment** create (``POST``), update (``PUT Appointment/<id>``) and conditional
update (``PUT Appointment?identifier=<system>|<value>``). The resource is read into one
``ProposedSession`` and handed to the schedule import service
(``scheduling.imports.sessions_import``), the one the CSV and iCalendar import use: its
checks (patient of the program with an active episode, clinician of the program, the
session's length, not in the past, no double booking of the clinician, the room or the
patient) and its all-or-nothing save with one audit event per patient. The EHR's
identifier (system + value) is stored on the session: the same Appointment posted
twice is stored once.

**Patient** update (``PUT Patient/<id>`` or ``PUT Patient?identifier=<mrn system>|<mrn>``)
changes the name, birth date and mobile phone of a patient the client already knows.
No patient is created or merged from here: a patient enters Tether at admission.

A client writes only for the patients it could read (its program's, and a Part 2
patient's only under a consent naming its recipient): any other patient is answered
exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import ValidationError

from tether.fhir import release, resources, search
from tether.fhir.models import FhirClient
from tether.patients.models import Patient
from tether.privacy import audit, gate
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling import imports
from tether.scheduling.models import Appointment, Attendance

# A clinician is named by e-mail as a URI identifier (RFC 3986 system, mailto: value).
URI_SYSTEM = "urn:ietf:rfc:3986"
KIND_SYSTEM = "urn:tether:appointment-kind"
MAX_BODY = 100_000
# An ISO date-time with no offset: FHIR's instant needs one; the program's clock is not
# guessed for another system's times.
_NO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


class Refused(Exception):
    """The write is refused: FHIR status, issue code and the issues' texts."""

    def __init__(self, status: int, code: str, *texts: str, patient: Patient | None = None) -> None:
        super().__init__(texts[0] if texts else code)
        self.status = status
        self.code = code
        self.texts = list(texts)
        self.patient = patient


@dataclass
class Stored:
    status: int  # 201 created, 200 updated or already stored
    resource_type: str
    resource_id: str
    message: str
    notes: list[str] = field(default_factory=list)


def _body(raw: bytes, resource_type: str) -> dict[str, Any]:
    if len(raw) > MAX_BODY:
        raise Refused(413, "too-costly", "The resource is too large.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "structure", "The body is not JSON.") from None
    if not isinstance(data, dict) or data.get("resourceType") != resource_type:
        raise Refused(400, "structure", f"The body must be a {resource_type} resource.")
    return data


def _validated(model: Any, data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except (ValidationError, ValueError, TypeError) as error:
        where = ""
        if isinstance(error, ValidationError) and error.errors():
            where = ".".join(str(part) for part in error.errors()[0]["loc"])
        raise Refused(
            400, "invalid", f"Not a valid FHIR R4 resource{f' (at {where})' if where else ''}."
        ) from None


def _released(client: FhirClient, rows: QuerySet[Any], patient_field: str) -> QuerySet[Any]:
    return rows.filter(gate.system_release_condition(client.recipient, patient_field=patient_field))


def bookable(client: FhirClient) -> QuerySet[Patient]:
    """The patients this client may write for: those it may read."""
    return _released(client, search.KINDS["Patient"].rows(client), "pk")


# --- Appointment ------------------------------------------------------------------------


@dataclass
class _Read:
    row: imports.ProposedSession
    patient_reference: int | None


def _identifier(resource: Any) -> tuple[str, str]:
    for identifier in resource.identifier or []:
        if identifier.system and identifier.value:
            return str(identifier.system)[:200], str(identifier.value)[:200]
    return "", ""


def _read_appointment(data: dict[str, Any], client: FhirClient) -> _Read:
    for name in ("start", "end"):
        value = data.get(name)
        if isinstance(value, str) and _NO_OFFSET.match(value):
            raise Refused(
                400,
                "invalid",
                f"{name}: a time needs its time zone offset (Z or +hh:mm); "
                "the program's clock is not guessed.",
            )
    resource: FhirAppointment = _validated(FhirAppointment, data)
    if resource.status not in ("booked", "pending", "proposed"):
        raise Refused(422, "business-rule", "Only a booked Appointment is accepted here.")
    row = imports.ProposedSession(line=1)
    row.external_system, row.external_id = _identifier(resource)
    if resource.start is None or resource.end is None:
        raise Refused(422, "required", "An Appointment needs its start and end.")
    row.starts_at, row.ends_at = resource.start, resource.end
    for concept in resource.serviceType or []:
        words = [c.code for c in concept.coding or [] if c.code] + [concept.text or ""]
        if any(str(w).lower() in ("family", "family session") for w in words):
            row.kind = Appointment.Kind.FAMILY
    patient_reference = None
    mrn_system = resources.identifier_system(client.organization_id)
    for participant in resource.participant or []:
        actor = participant.actor
        if actor is None:
            continue
        reference = actor.reference or ""
        identifier = actor.identifier
        if reference.startswith("Patient/") or actor.type == "Patient":
            tail = reference.removeprefix("Patient/")
            if tail.isdigit() and len(tail) <= 18:
                patient_reference = int(tail)
            elif identifier is not None and identifier.system == mrn_system:
                row.record_number = str(identifier.value or "")[:32]
            else:
                row.record_number = reference[:40]  # unknown to the check below
        elif reference.startswith("Practitioner") or actor.type == "Practitioner":
            value = str(getattr(identifier, "value", "") or "")
            if value.lower().startswith("mailto:"):
                row.clinician_email = value[7:].strip().lower()
        elif reference.startswith("Location") or actor.type == "Location":
            row.location = (actor.display or "")[:200]
    if patient_reference is None and not row.record_number:
        raise Refused(422, "required", "An Appointment needs its patient as a participant.")
    return _Read(row, patient_reference)


def _resolve_patient(read: _Read, client: FhirClient) -> None:
    """``Patient/<id>`` as the record number the import service checks; an id the
    client may not write for stays unknown to it."""
    if read.patient_reference is None:
        return
    found = bookable(client).filter(pk=read.patient_reference).first()
    read.row.record_number = found.record_number if found else f"Patient/{read.patient_reference}"


def _attendance_of(client: FhirClient, appointment: Appointment) -> Attendance | None:
    return (
        _released(client, search.KINDS["Appointment"].rows(client), "patient_id")
        .filter(appointment=appointment)
        .first()
    )


def _import(client: FhirClient, row: imports.ProposedSession) -> Attendance:
    result = imports.sessions_import(
        program=client.program,
        rows=[row],
        bookable=bookable(client),
        user=release.actor(client),
        save=True,
    )
    if result.has_problems:
        status = 409 if row.clashes else 422
        raise Refused(
            status,
            "conflict" if row.clashes else "business-rule",
            *row.problems,
            patient=row.patient,
        )
    if row.existing is not None:
        return Attendance.objects.get(appointment=row.existing)
    return Attendance.objects.get(
        appointment__organization_id=client.organization_id,
        appointment__external_system=row.external_system,
        appointment__external_id=row.external_id,
    )


def _by_identifier(client: FhirClient, system: str, value: str) -> Appointment | None:
    return Appointment.objects.filter(
        organization_id=client.organization_id, external_system=system, external_id=value
    ).first()


def appointment_create(*, client: FhirClient, body: bytes) -> Stored:
    """``POST Appointment``: a new session, or the one already stored with this
    identifier (200, unchanged: change it with ``PUT``)."""
    read = _read_appointment(_body(body, "Appointment"), client)
    row = read.row
    if not row.external_id:
        raise Refused(
            422, "required", "An Appointment needs an identifier (system and value) from the EHR."
        )
    stored = _stored_already(client, row)
    if stored is not None:
        return stored
    _resolve_patient(read, client)
    try:
        attendance = _import(client, row)
    except IntegrityError:
        # The same identifier stored a moment ago by a concurrent request.
        stored = _stored_already(client, row)
        if stored is None:
            raise
        return stored
    return Stored(201, "Appointment", str(attendance.pk), "The Appointment is stored.")


def _stored_already(client: FhirClient, row: imports.ProposedSession) -> Stored | None:
    existing = _by_identifier(client, row.external_system, row.external_id)
    if existing is None:
        return None
    attendance = _attendance_of(client, existing)
    if attendance is None:
        raise Refused(409, "duplicate", "This identifier is already used by another session.")
    return Stored(
        200,
        "Appointment",
        str(attendance.pk),
        "An Appointment with this identifier is already stored; it is unchanged "
        "(send PUT to change it).",
    )


def _update(client: FhirClient, attendance: Attendance, read: _Read) -> Stored:
    row = read.row
    appointment = attendance.appointment
    if appointment.kind not in (Appointment.Kind.INDIVIDUAL, Appointment.Kind.FAMILY) or (
        appointment.attendances.count() != 1
    ):
        raise Refused(422, "business-rule", "Only an individual or family session is changed here.")
    _resolve_patient(read, client)
    if row.record_number != attendance.patient.record_number:
        raise Refused(422, "business-rule", "The patient of a session cannot change.")
    if appointment.external_id and (row.external_system, row.external_id) not in (
        ("", ""),
        (appointment.external_system, appointment.external_id),
    ):
        raise Refused(409, "conflict", "The identifier differs from the stored session's.")
    if row.external_id and not appointment.external_id:
        other = _by_identifier(client, row.external_system, row.external_id)
        if other is not None and other.pk != appointment.pk:
            raise Refused(409, "duplicate", "This identifier is already used by another session.")
    row.existing = appointment
    _import(client, row)
    return Stored(200, "Appointment", str(attendance.pk), "The Appointment is updated.")


def appointment_update(*, client: FhirClient, resource_id: str, body: bytes) -> Stored:
    """``PUT Appointment/<id>``: change the session (404 if the client cannot see it)."""
    data = _body(body, "Appointment")
    if "id" in data and data["id"] != resource_id:
        raise Refused(400, "invalid", "The resource's id is not the one in the URL.")
    read = _read_appointment(data, client)
    attendance = None
    if resource_id.isdigit() and len(resource_id) <= 18:
        attendance = (
            _released(client, search.KINDS["Appointment"].rows(client), "patient_id")
            .filter(pk=int(resource_id))
            .first()
        )
    if attendance is None:
        raise Refused(404, "not-found", "No such resource.")
    return _update(client, attendance, read)


def _identifier_param(params: dict[str, list[str]]) -> tuple[str, str]:
    if set(params) != {"identifier"} or len(params["identifier"]) != 1:
        raise Refused(
            400, "invalid", "A conditional update names exactly one identifier=<system>|<value>."
        )
    system, bar, value = params["identifier"][0].partition("|")
    if not bar or not system or not value:
        raise Refused(400, "invalid", "identifier must be <system>|<value>.")
    return system[:200], value[:200]


def appointment_conditional_update(
    *, client: FhirClient, params: dict[str, list[str]], body: bytes
) -> Stored:
    """``PUT Appointment?identifier=<system>|<value>``: update the session stored with
    this identifier, or create it (201) when there is none."""
    system, value = _identifier_param(params)
    read = _read_appointment(_body(body, "Appointment"), client)
    if (read.row.external_system, read.row.external_id) not in (("", ""), (system, value)):
        raise Refused(400, "invalid", "The resource's identifier is not the one in the URL.")
    read.row.external_system, read.row.external_id = system, value
    existing = _by_identifier(client, system, value)
    if existing is None:
        _resolve_patient(read, client)
        try:
            attendance = _import(client, read.row)
        except IntegrityError:
            raise Refused(409, "conflict", "Sent twice at once: send it again.") from None
        return Stored(201, "Appointment", str(attendance.pk), "The Appointment is stored.")
    found = _attendance_of(client, existing)
    if found is None:
        raise Refused(409, "duplicate", "This identifier is already used by another session.")
    return _update(client, found, read)


# --- Patient demographics ---------------------------------------------------------------


@dataclass(frozen=True)
class Demographics:
    first_name: str
    last_name: str
    date_of_birth: dt.date
    mobile_phone: str | None  # None: not sent, left as it is


def _read_patient(data: dict[str, Any], patient: Patient, client: FhirClient) -> Demographics:
    resource: FhirPatient = _validated(FhirPatient, data)
    mrn_system = resources.identifier_system(client.organization_id)
    for identifier in resource.identifier or []:
        if identifier.system == mrn_system and identifier.value != patient.record_number:
            raise Refused(422, "business-rule", "The record number (MRN) cannot change here.")
    names = resource.name or []
    official = next((n for n in names if n.use == "official"), names[0] if names else None)
    family = (official.family or "").strip() if official else ""
    given = str(official.given[0] if official and official.given else "").strip()
    if not family or not given or len(family) > 100 or len(given) > 100:
        raise Refused(422, "required", "A name with a family and a given name is needed.")
    born = resource.birthDate
    if not isinstance(born, dt.date) or born > timezone.localdate() or born.year < 1900:
        raise Refused(422, "required", "A birth date (not in the future) is needed.")
    phone: str | None = None
    phones = [t for t in resource.telecom or [] if t.system == "phone" and t.value]
    if phones:
        mobile = next((t for t in phones if t.use == "mobile"), phones[0])
        phone = str(mobile.value).strip()
        if len(phone) > 32 or not re.fullmatch(r"[0-9+()\-. ]{3,32}", phone):
            raise Refused(422, "value", "The phone number cannot be read.")
    return Demographics(given, family, born, phone)


def demographics_update(*, client: FhirClient, patient: Patient, new: Demographics) -> bool:
    """Change a known patient's name, birth date and mobile phone, audited as an update
    by the client. Returns whether anything changed."""
    with transaction.atomic():
        locked = Patient.objects.select_for_update(no_key=True).get(pk=patient.pk)
        changes = {
            "first_name": new.first_name,
            "last_name": new.last_name,
            "date_of_birth": new.date_of_birth,
        }
        if new.mobile_phone is not None:
            changes["mobile_phone"] = new.mobile_phone
        changed = [name for name, value in changes.items() if getattr(locked, name) != value]
        if not changed:
            return False
        for name in changed:
            setattr(locked, name, changes[name])
        locked.save(update_fields=changed)
        audit.record(
            request=None,
            actor=release.actor(client),
            patient=locked,
            action=Action.UPDATE,
            category=Category.GENERAL,
            purpose=Purpose.TREATMENT,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=locked,
        )
    return True


def _known_patient(client: FhirClient, **lookup: Any) -> Patient:
    found = bookable(client).filter(**lookup).first()
    if found is None:
        raise Refused(404, "not-found", "No such resource.")
    return found


def patient_update(*, client: FhirClient, resource_id: str, body: bytes) -> Stored:
    data = _body(body, "Patient")
    if "id" in data and data["id"] != resource_id:
        raise Refused(400, "invalid", "The resource's id is not the one in the URL.")
    if not resource_id.isdigit() or len(resource_id) > 18:
        raise Refused(404, "not-found", "No such resource.")
    patient = _known_patient(client, pk=int(resource_id))
    changed = demographics_update(
        client=client, patient=patient, new=_read_patient(data, patient, client)
    )
    return Stored(200, "Patient", str(patient.pk), _patient_message(changed))


def patient_conditional_update(
    *, client: FhirClient, params: dict[str, list[str]], body: bytes
) -> Stored:
    """``PUT Patient?identifier=<mrn system>|<mrn>``: a known patient only (404 if none:
    a patient is not created from here)."""
    system, value = _identifier_param(params)
    data = _body(body, "Patient")
    if system != resources.identifier_system(client.organization_id):
        raise Refused(404, "not-found", "No such resource.")
    patient = _known_patient(client, record_number=value)
    changed = demographics_update(
        client=client, patient=patient, new=_read_patient(data, patient, client)
    )
    return Stored(200, "Patient", str(patient.pk), _patient_message(changed))


def _patient_message(changed: bool) -> str:
    return "The patient's details are updated." if changed else "Nothing changed."
