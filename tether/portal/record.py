"""The patient's own record, in one place (ONC 170.315(e)(1): view, download, transmit).

``own_record`` reads everything the signed-in patient may see of their record, asking the
privacy gate for each category of record it holds (``view`` for the page, ``export`` for a
download or a copy sent) and auditing each, in a fixed number of queries whatever the
record's length. Psychotherapy notes are never part of it (the decision table gives the
patient none); a category the gate refuses is left out, never shown.

Only the patient reaches it: ``access_own_record`` turns away staff (they have the staff
pages and the audit report), family members (they see what their scopes open, on the
family page) and other patients, with a 404 and a denied audit event.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from tether.checkins.models import Answer, Response
from tether.consent import selectors as consent_selectors
from tether.consent.models import ConsentDirective, Disclosure
from tether.homework.models import Assignment
from tether.messaging.models import Message, Thread
from tether.patients.models import Episode, Patient
from tether.portal.models import RecordTransmission
from tether.privacy import audit
from tether.privacy.gate import access_own_record, decide
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.safetyplan.models import SafetyPlanVersion
from tether.scheduling.models import Attendance


@dataclass
class Measure:
    """A questionnaire the patient sent, with the score and range they were shown."""

    response: Response
    when: dt.datetime
    name: str
    score: int | None
    band: str
    complete: bool
    answers: list[tuple[str, str]]  # (question, answer as the patient chose it)


@dataclass
class OwnRecord:
    patient: Patient
    generated_at: dt.datetime
    episodes: list[Episode]
    measures: list[Measure]  # scored questionnaires (PHQ-9, GAD-7 ...), newest first
    checkins: list[Measure]  # the daily check-ins (not scored), newest first
    answers: dict[int, list[Answer]]  # by response id, for the FHIR file
    safety_plan: SafetyPlanVersion | None
    homework: list[Assignment]
    sessions: list[Attendance]
    messages: list[Message]
    consents: list[ConsentDirective]
    disclosures: list[Disclosure]
    transmissions: list[RecordTransmission]
    # The record holds Part 2 content (a record labelled part2, or the patient is or
    # was in a program that treats substance use): a copy carries the §2.32 notice.
    part2: bool
    categories: frozenset[str] = field(default_factory=frozenset)


def _answer_text(response: Response, answer: Answer) -> tuple[str, str] | None:
    spec = response.instrument.spec
    try:
        item = spec.item(answer.item_code)
    except (KeyError, ValueError, LookupError):
        return None
    if item.kind == "text":
        return (item.text, answer.text) if answer.text else None
    if answer.value is None:
        return None
    option = item.option_for(answer.value) if item.kind == "choice" else None
    if option is not None:
        return item.text, option.label
    return item.text, str(answer.value)


def _measures(
    patient: Patient, categories: frozenset[str]
) -> tuple[list[Measure], list[Measure], dict[int, list[Answer]]]:
    responses = list(
        Response.objects.filter(patient=patient, record_category__in=categories)
        .exclude(status=Response.Status.DRAFT)
        .select_related("instrument")
        .order_by("-submitted_at", "-started_at", "-id")
    )
    answers: dict[int, list[Answer]] = defaultdict(list)
    for answer in Answer.objects.filter(response__in=[r.pk for r in responses]).order_by("id"):
        answers[answer.response_id].append(answer)
    measures: list[Measure] = []
    checkins: list[Measure] = []
    for response in responses:
        spec = response.instrument.spec
        complete = response.status == Response.Status.COMPLETE
        band = spec.band_for(response.total) if complete and response.total is not None else None
        shown = [t for a in answers.get(response.pk, []) if (t := _answer_text(response, a))]
        row = Measure(
            response=response,
            when=response.submitted_at or response.started_at,
            name=response.instrument.short_name or response.instrument.name,
            score=response.total if complete and spec.is_scored else None,
            band=band.label if band is not None else "",
            complete=complete,
            answers=shown,
        )
        (measures if spec.is_scored else checkins).append(row)
    return measures, checkins, answers


def _held_categories(patient: Patient) -> set[str]:
    """The categories the patient's record holds, from the labels given at capture."""
    held = {Category.GENERAL.value}
    held |= set(
        Response.objects.filter(patient=patient)
        .exclude(status=Response.Status.DRAFT)
        .values_list("record_category", flat=True)
        .distinct()
    )
    held |= set(
        SafetyPlanVersion.objects.filter(plan__patient=patient)
        .values_list("record_category", flat=True)
        .distinct()
    )
    held |= set(
        Assignment.objects.filter(patient=patient)
        .values_list("record_category", flat=True)
        .distinct()
    )
    held |= set(
        Message.objects.filter(thread__patient=patient, thread__kind=Thread.Kind.PATIENT)
        .values_list("record_category", flat=True)
        .distinct()
    )
    return held


def is_part2(patient: Patient, categories: set[str] | frozenset[str]) -> bool:
    """Part 2 content: a record labelled ``part2``, or the patient is or was in a program
    that treats substance use (the reading of ``gate.disclosure_category_for`` and of the
    FHIR API: everything about such a patient is Part 2)."""
    if Category.PART2.value in categories:
        return True
    return Episode.objects.filter(patient=patient, program__treats_substance_use=True).exists()


def _readable(request: HttpRequest, patient: Patient, action: Action) -> frozenset[str]:
    """Ask the gate for each category the record holds; audit each answer."""
    readable: set[str] = {Category.GENERAL.value}  # asked by access_own_record already
    for value in sorted(_held_categories(patient) - {Category.GENERAL.value}):
        category = Category(value)
        decision = decide(request.user, patient, category=category, action=action)  # type: ignore[arg-type]
        if not decision.allowed:
            audit.record_denied(
                request,
                patient=patient,
                category=category,
                action=action,
                purpose=Purpose.PATIENT_REQUEST,
            )
            continue
        audit.record_access(
            request,
            patient=patient,
            category=category,
            action=action,
            purpose=Purpose.PATIENT_REQUEST,
            relation=decision.relation,
        )
        readable.add(value)
    return frozenset(readable)


def patient_of(request: HttpRequest, action: Action) -> Patient:
    """The signed-in patient (404 for anyone else), asked for ``general`` records."""
    return access_own_record(request, category=Category.GENERAL, action=action)


def own_record(
    request: HttpRequest, *, action: Action, patient: Patient | None = None
) -> OwnRecord:
    """Everything the signed-in patient may see of their record (``action``: ``view`` for
    the page, ``export`` for a download or a copy sent)."""
    if patient is None:
        patient = patient_of(request, action)
    categories = _readable(request, patient, action)
    measures, checkins, answers = _measures(patient, categories)
    plan = (
        SafetyPlanVersion.objects.filter(plan__patient=patient, record_category__in=categories)
        .order_by("-number")
        .first()
    )
    homework = list(
        Assignment.objects.filter(patient=patient, record_category__in=categories).order_by(
            "-due_on", "-id"
        )
    )
    sessions = list(
        Attendance.objects.filter(patient=patient)
        .select_related("appointment__program", "appointment__clinician__user")
        .order_by("-appointment__starts_at", "-id")
    )
    messages = list(
        Message.objects.filter(
            thread__patient=patient,
            thread__kind=Thread.Kind.PATIENT,
            record_category__in=categories,
        )
        .select_related("author")
        .order_by("created_at", "id")
    )
    return OwnRecord(
        patient=patient,
        generated_at=timezone.now(),
        episodes=list(
            Episode.objects.filter(patient=patient)
            .select_related("program")
            .order_by("-admitted_on", "-id")
        ),
        measures=measures,
        checkins=checkins,
        answers=answers,
        safety_plan=plan if plan is not None and not plan.is_empty else None,
        homework=homework,
        sessions=sessions,
        messages=messages,
        consents=consent_selectors.consents_of(patient),
        disclosures=list(consent_selectors.disclosures_of(patient).order_by("-disclosed_at")),
        transmissions=list(RecordTransmission.objects.filter(patient=patient)),
        part2=is_part2(patient, categories),
        categories=categories,
    )


def sent_today(patient: Patient) -> int:
    """Copies sent in the last 24 hours (the limit keeps the form from being a relay)."""
    since = timezone.now() - dt.timedelta(hours=24)
    return RecordTransmission.objects.filter(Q(patient=patient) & Q(sent_at__gte=since)).count()
