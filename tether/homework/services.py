"""Writes to homework, each with its audit event (ids only)."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from tether.flags.services import evaluate_soon
from tether.homework.library import Definition, parse_definition
from tether.homework.models import Assignment, HomeworkAnswers, ProgramTemplate
from tether.privacy import audit
from tether.privacy.gate import family_category_for, record_category_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.organizations.models import Program
    from tether.patients.models import Patient
    from tether.scheduling.models import Appointment

MAX_FEEDBACK_LENGTH = 2000
MAX_NOTE_LENGTH = 1000


class FamilyContentError(ValueError):
    """Family content from a program that treats substance use: no family member may
    see it without the patient's written consent, which this program does not take."""


def assignment_category_for(patient: Patient, *, for_family: bool = False) -> Category:
    """The label of a new assignment: ``shared``, ``general`` for the family, ``part2`` in
    a substance-use program (``tether.privacy.gate``)."""
    if for_family:
        return family_category_for(patient)
    return record_category_for(patient, Category.SHARED)


def _allowed(
    *, actor: User, patient: Patient, action: Action, category: Category, purpose: Purpose, obj: Any
) -> None:
    audit.record(
        request=None,
        actor=actor,
        patient=patient,
        action=action,
        category=category,
        purpose=purpose,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=obj,
    )


def assignment_create(
    *,
    patient: Patient,
    definition: Definition,
    assigned_by: User,
    due_on: date,
    note: str = "",
    starts_on: date | None = None,
    appointment: Appointment | None = None,
    for_family: bool = False,
) -> Assignment:
    """Assign homework; labelled at capture. ``for_family``: a family-therapy assignment
    (``general``, so a family member with the scope may read it), refused in a program
    that treats substance use (``FamilyContentError``): no family member may see it there."""
    starts_on = starts_on or min(timezone.localdate(), due_on)
    category = assignment_category_for(patient, for_family=for_family)
    if for_family and category == Category.PART2:
        raise FamilyContentError
    with transaction.atomic():
        assignment = Assignment.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            template_key=definition.key,
            title=definition.title,
            definition=definition.raw,
            assigned_by=assigned_by,
            starts_on=starts_on,
            due_on=due_on,
            note=note.strip()[:MAX_NOTE_LENGTH],
            appointment=appointment,
            for_family=for_family,
            record_category=category.value,
        )
        _allowed(
            actor=assigned_by,
            patient=patient,
            action=Action.CREATE,
            category=category,
            purpose=Purpose.TREATMENT,
            obj=assignment,
        )
    return assignment


def assignments_create_for_group(
    *,
    patients: list[Patient],
    definition: Definition,
    assigned_by: User,
    due_on: date,
    note: str = "",
    appointment: Appointment | None = None,
) -> list[Assignment]:
    """The same homework for every patient given (a group session's attendees)."""
    with transaction.atomic():
        return [
            assignment_create(
                patient=patient,
                definition=definition,
                assigned_by=assigned_by,
                due_on=due_on,
                note=note,
                appointment=appointment,
            )
            for patient in patients
        ]


def answers_save(
    *, assignment: Assignment, actor: User, values: dict[str, Any], purpose: Purpose
) -> HomeworkAnswers:
    """Merge one step's answers into what is saved (nothing earlier is lost)."""
    with transaction.atomic():
        locked = Assignment.objects.select_for_update(no_key=True).get(pk=assignment.pk)
        answers, _created = HomeworkAnswers.objects.get_or_create(
            assignment=locked,
            defaults={
                "record_category": record_category_for(locked.patient, Category.SELF_REPORT).value
            },
        )
        data = answers.as_dict()
        data.update(values)
        answers.data = json.dumps(data, ensure_ascii=False)
        answers.save()
        if locked.status == Assignment.Status.NOT_STARTED:
            locked.status = Assignment.Status.IN_PROGRESS
            locked.started_at = timezone.now()
            locked.save(update_fields=["status", "started_at"])
        _allowed(
            actor=actor,
            patient=locked.patient,
            action=Action.UPDATE,
            category=Category(answers.record_category),
            purpose=purpose,
            obj=answers,
        )
    assignment.status, assignment.started_at = locked.status, locked.started_at
    return answers


def assignment_complete(*, assignment: Assignment, actor: User, purpose: Purpose) -> Assignment:
    with transaction.atomic():
        locked = Assignment.objects.select_for_update(no_key=True).get(pk=assignment.pk)
        if locked.status != Assignment.Status.DONE:
            locked.status = Assignment.Status.DONE
            locked.completed_at = timezone.now()
            locked.started_at = locked.started_at or locked.completed_at
            locked.save(update_fields=["status", "completed_at", "started_at"])
            evaluate_soon(locked.patient_id)  # flag rules (homework), after the commit
            _allowed(
                actor=actor,
                patient=locked.patient,
                action=Action.UPDATE,
                category=Category(locked.record_category),
                purpose=purpose,
                obj=locked,
            )
    return locked


def feedback_give(*, assignment: Assignment, author: User, text: str) -> Assignment:
    with transaction.atomic():
        assignment.feedback = text.strip()
        assignment.feedback_by = author
        assignment.feedback_at = timezone.now()
        assignment.save(update_fields=["feedback", "feedback_by", "feedback_at"])
        _allowed(
            actor=author,
            patient=assignment.patient,
            action=Action.UPDATE,
            category=Category(assignment.record_category),
            purpose=Purpose.TREATMENT,
            obj=assignment,
        )
    return assignment


def program_template_add(*, program: Program, data: dict[str, Any]) -> ProgramTemplate:
    """Add (or replace) a program's own template. Raises ``TemplateError`` on bad data."""
    definition = parse_definition(data)
    template, _created = ProgramTemplate.objects.update_or_create(
        program=program,
        key=definition.key,
        defaults={"definition": definition.raw, "is_active": True},
    )
    return template
