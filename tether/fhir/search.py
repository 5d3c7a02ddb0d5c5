"""What a registered system may read, as querysets (selectors), and the resources built
from one page of rows.

Every queryset starts from the client's program (patients with an episode in it, in the
client's organization) and keeps only what the gate lets a system outside the program
receive (``gate.system_release_condition``: a Part 2 patient's records only under a
consent naming the client's recipient). What the filter removed is counted, so the
answer can say that some results were withheld by policy, never which.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from fhir.resources.R4B.resource import Resource

from tether.checkins.models import Answer, Instrument, Response
from tether.fhir import resources
from tether.fhir.models import FhirClient
from tether.organizations.models import StaffMember
from tether.patients.models import Episode, Patient
from tether.privacy import gate
from tether.privacy.policy import Category
from tether.scheduling.models import Appointment, Attendance

MAX_COUNT = 200
DEFAULT_COUNT = 50


class BadSearch(ValueError):
    """A search parameter that cannot be understood (400 with an OperationOutcome)."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def client_patient_ids(client: FhirClient) -> QuerySet[Episode, int]:
    return Episode.objects.filter(
        program_id=client.program_id, organization_id=client.organization_id
    ).values_list("patient_id", flat=True)


def part2_ids(patient_ids: set[int]) -> set[int]:
    """Which of these patients' records are Part 2 (one query)."""
    return set(gate.part2_patient_ids().filter(patient_id__in=patient_ids))


def _reference_id(value: str, kind: str) -> int:
    tail = value.removeprefix(f"{kind}/")
    if not tail.isdigit() or len(tail) > 18:
        raise BadSearch("patient", f"Not a {kind} reference: use {kind}/<id>.")
    return int(tail)


_PREFIXES = ("ge", "le", "gt", "lt", "eq")


def _date_filter(field: str, values: list[str]) -> Q:
    """FHIR date search (eq, ge, le, gt, lt on a date or an instant with its offset)."""
    condition = Q()
    for raw in values:
        prefix, text = ("eq", raw)
        if raw[:2] in _PREFIXES:
            prefix, text = raw[:2], raw[2:]
        try:
            instant = parse_datetime(text) if "T" in text else None
            day = parse_date(text) if instant is None else None
        except ValueError as error:
            raise BadSearch("date", "Not a FHIR date.") from error
        if instant is not None:
            if instant.tzinfo is None:
                raise BadSearch("date", "A date-time needs its time zone offset.")
            start, end = instant, instant + dt.timedelta(seconds=1)
        elif day is not None:
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
            end = start + dt.timedelta(days=1)
        else:
            raise BadSearch("date", "Not a FHIR date: use YYYY-MM-DD or a date-time.")
        condition &= {
            "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
            "ge": Q(**{f"{field}__gte": start}),
            "gt": Q(**{f"{field}__gte": end}),
            "le": Q(**{f"{field}__lt": end}),
            "lt": Q(**{f"{field}__lt": start}),
        }[prefix]
    return condition


@dataclass(frozen=True)
class Kind:
    """One resource type: its rows, its search parameters, and how a page is built:
    ``data`` gives each row's resources as FHIR JSON (the builders of ``resources``),
    ``build`` the same validated by ``fhir.resources`` (what the API answers)."""

    name: str
    category: Category  # the label of a non-Part 2 patient's rows
    rows: Callable[[FhirClient], QuerySet[Any]]
    patient_field: str
    date_field: str
    data: Callable[[list[Any], set[int], str], list[dict[str, Any]]]
    code_filter: Callable[[list[str]], Q] | None = None

    def build(self, rows: list[Any], part2: set[int], base: str) -> list[Resource]:
        return [resources.validated(data) for data in self.data(rows, part2, base)]


def _patients(client: FhirClient) -> QuerySet[Patient]:
    return Patient.objects.filter(
        organization_id=client.organization_id, pk__in=client_patient_ids(client)
    ).order_by("pk")


def _build_patients(rows: list[Patient], part2: set[int], base: str) -> list[dict[str, Any]]:
    return [resources.patient_data(p, part2=p.pk in part2) for p in rows]


def _responses(client: FhirClient) -> QuerySet[Response]:
    return (
        Response.objects.filter(
            organization_id=client.organization_id,
            patient_id__in=client_patient_ids(client),
        )
        .exclude(status=Response.Status.DRAFT)
        .order_by("pk")
    )


@dataclass(frozen=True)
class AnswerRow:
    """An answer as a builder reads it, fetched as values (no model instance per row)."""

    item_code: str
    value: int | None
    text: str | None
    answered_at: dt.datetime


def _answers_of(rows: list[Response]) -> dict[int, list[AnswerRow]]:
    """The page's answers (one query), and each row's instrument: one instance per
    instrument for the whole page (one query), so its definition is parsed once, not
    once per row."""
    instruments = Instrument.objects.in_bulk({r.instrument_id for r in rows})
    for row in rows:
        row.instrument = instruments[row.instrument_id]
    found: dict[int, list[AnswerRow]] = defaultdict(list)
    for response_id, item_code, value, text, answered_at in (
        Answer.objects.filter(response__in=[r.pk for r in rows])
        .order_by("pk")
        .values_list("response_id", "item_code", "value", "text", "answered_at")
    ):
        found[response_id].append(AnswerRow(item_code, value, text, answered_at))
    return found


def _build_responses(rows: list[Response], part2: set[int], base: str) -> list[dict[str, Any]]:
    answers = _answers_of(rows)
    return [
        resources.questionnaire_response_data(
            r,
            answers[r.pk],
            part2=r.patient_id in part2 or r.record_category == Category.PART2,
            base=base,
        )
        for r in rows
    ]


def _observation_rows(client: FhirClient) -> QuerySet[Response]:
    """Completed measures with a LOINC total: each gives its Observations."""
    return (
        _responses(client)
        .filter(status=Response.Status.COMPLETE, total__isnull=False)
        .exclude(instrument__loinc_total="")
    )


def _build_observations(rows: list[Response], part2: set[int], base: str) -> list[dict[str, Any]]:
    answers = _answers_of(rows)
    found: list[dict[str, Any]] = []
    for r in rows:
        found.extend(
            resources.observation_data(
                r, answers[r.pk], part2=r.patient_id in part2 or r.record_category == Category.PART2
            )
        )
    return found


def observation_codes(values: list[str]) -> set[str]:
    """``code`` as ``http://loinc.org|44261-6`` or ``44261-6`` (comma for "or")."""
    codes: set[str] = set()
    for value in values:
        for one in value.split(","):
            system, _, code = one.rpartition("|")
            if system not in ("", resources.LOINC) or not code:
                raise BadSearch("code", "Only LOINC codes are known here.")
            codes.add(code)
    return codes


def _observation_code(values: list[str]) -> Q:
    """Measures whose total, or an item exported as its own Observation, has the code."""
    condition = Q()
    for value in values:
        codes = observation_codes([value])
        with_item = [
            instrument.pk
            for instrument in Instrument.objects.all()
            if any(
                item.loinc in codes & resources.ITEM_OBSERVATIONS for item in instrument.spec.items
            )
        ]
        condition &= Q(instrument__loinc_total__in=codes) | Q(instrument_id__in=with_item)
    return condition


def _attendances(client: FhirClient) -> QuerySet[Attendance]:
    return Attendance.objects.filter(
        organization_id=client.organization_id,
        patient_id__in=client_patient_ids(client),
        appointment__program_id=client.program_id,
    ).order_by("pk")


def _build_appointments(rows: list[Attendance], part2: set[int], base: str) -> list[dict[str, Any]]:
    """A page's sessions and their clinicians in two queries, one instance each however
    many of the page's patients attended (a group session is one appointment)."""
    appointments = Appointment.objects.in_bulk({a.appointment_id for a in rows})
    clinicians = StaffMember.objects.select_related("user").in_bulk(
        {a.clinician_id for a in appointments.values() if a.clinician_id is not None}
    )
    for appointment in appointments.values():
        if appointment.clinician_id is not None:
            appointment.clinician = clinicians[appointment.clinician_id]
    for attendance in rows:
        attendance.appointment = appointments[attendance.appointment_id]
    kind_text: dict[str, str] = {}
    return [
        resources.appointment_data(a, part2=a.patient_id in part2, kind_text=kind_text)
        for a in rows
    ]


KINDS: dict[str, Kind] = {
    "Patient": Kind("Patient", Category.GENERAL, _patients, "pk", "created_at", _build_patients),
    "QuestionnaireResponse": Kind(
        "QuestionnaireResponse",
        Category.SELF_REPORT,
        _responses,
        "patient_id",
        "submitted_at",
        _build_responses,
    ),
    "Observation": Kind(
        "Observation",
        Category.SELF_REPORT,
        _observation_rows,
        "patient_id",
        "submitted_at",
        _build_observations,
        _observation_code,
    ),
    "Appointment": Kind(
        "Appointment",
        Category.GENERAL,
        _attendances,
        "patient_id",
        "appointment__starts_at",
        _build_appointments,
    ),
}

KNOWN_PARAMETERS = {"_id", "patient", "subject", "date", "code", "identifier", "_count", "_offset"}


@dataclass
class Page:
    rows: list[Any]
    total: int
    withheld: int
    offset: int
    count: int


def _int(params: dict[str, list[str]], name: str, default: int, maximum: int) -> int:
    values = params.get(name)
    if not values:
        return default
    raw = values[-1]
    if not raw.isdigit() or len(raw) > 9:
        raise BadSearch(name, f"{name} must be a whole number.")
    return min(int(raw), maximum)


def search(
    kind: Kind, client: FhirClient, params: dict[str, list[str]]
) -> tuple[Page, QuerySet[Any]]:
    """One page of rows the client may receive, and the filtered (unreleased) queryset."""
    unknown = sorted(set(params) - KNOWN_PARAMETERS)
    if unknown:
        raise BadSearch(unknown[0], "This search parameter is not supported.")
    rows = kind.rows(client)
    if params.get("_id"):
        ids = [v for raw in params["_id"] for v in raw.split(",")]
        if kind.name == "Observation":
            ids = [v.split("-", 1)[0] for v in ids]
        if not all(v.isdigit() and len(v) <= 18 for v in ids):
            raise BadSearch("_id", "Not an id of this server.")
        rows = rows.filter(pk__in=[int(v) for v in ids])
    for name in ("patient", "subject"):
        for raw in params.get(name, []):
            if kind.name == "Patient":
                raise BadSearch(name, "Search Patient by _id.")
            rows = rows.filter(**{kind.patient_field: _reference_id(raw, "Patient")})
    if params.get("identifier"):
        if kind.name != "Patient":
            raise BadSearch("identifier", "identifier is searched on Patient only.")
        for raw in params["identifier"]:
            system, _, value = raw.rpartition("|")
            if system and system != resources.identifier_system(client.organization_id):
                rows = rows.none()
            rows = rows.filter(record_number=value)
    if params.get("date"):
        rows = rows.filter(_date_filter(kind.date_field, params["date"]))
    if params.get("code"):
        if kind.code_filter is None:
            raise BadSearch("code", "code is not searched on this resource.")
        rows = rows.filter(kind.code_filter(params["code"])).distinct()
    count = _int(params, "_count", DEFAULT_COUNT, MAX_COUNT)
    offset = _int(params, "_offset", 0, 10**9)
    released = rows.filter(
        gate.system_release_condition(client.recipient, patient_field=kind.patient_field)
    )
    total = released.count()
    withheld = rows.count() - total
    page = list(released[offset : offset + count]) if count else []
    return Page(page, total, withheld, offset, count), released


def patient_of(row: Model) -> int:
    if isinstance(row, Patient):
        return row.pk
    return int(row.patient_id)  # type: ignore[attr-defined]  # Response or Attendance
