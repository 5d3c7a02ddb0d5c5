"""Writing for families: progress updates (staff) and a family member's own part of a
family-therapy assignment; each write and its audit event in one transaction."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import transaction

from tether.family.models import MAX_UPDATE_LENGTH, FamilyAnswers, FamilyUpdate
from tether.privacy import audit
from tether.privacy.gate import family_category_for
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category, Relation

if TYPE_CHECKING:
    from tether.accounts.models import User
    from tether.homework.models import Assignment
    from tether.patients.models import Patient


class FamilyUpdateError(ValueError):
    """The update cannot be sent: ``empty``, ``too_long`` or ``part2`` (a program that
    treats substance use: nothing goes to families without the patient's written consent)."""


def family_update_send(*, patient: Patient, author: User, body: str) -> FamilyUpdate:
    text = (body or "").strip()
    if not text:
        raise FamilyUpdateError("empty")
    if len(text) > MAX_UPDATE_LENGTH:
        raise FamilyUpdateError("too_long")
    category = family_category_for(patient)
    if category == Category.PART2:
        raise FamilyUpdateError("part2")
    with transaction.atomic():
        update = FamilyUpdate.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            author=author,
            body=text,
            record_category=category.value,
        )
        audit.record(
            request=None,
            actor=author,
            patient=patient,
            action=Action.CREATE,
            category=category,
            purpose=Purpose.TREATMENT,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=update,
        )
    return update


class FamilyAnswersError(ValueError):
    """The family member's part cannot be saved: ``not_family`` (not a family-therapy
    assignment) or ``part2`` (a program that treats substance use)."""


def family_answers_save(
    *, assignment: Assignment, author: User, values: dict[str, Any]
) -> FamilyAnswers:
    """Merge one step of a family member's own part into what they saved before.

    The caller has checked the "family-therapy assignments" scope with
    ``gate.access_as_proxy(..., action=CREATE)``. Stored apart from the patient's answers,
    labelled at capture (``family_category_for``: ``general``); audited as ``create``,
    the only write the decision table gives a family member, purpose "family member's
    request", ids only.
    """
    if not assignment.for_family or assignment.record_category != Category.GENERAL:
        raise FamilyAnswersError("not_family")
    patient = assignment.patient
    category = family_category_for(patient)
    if category == Category.PART2:
        raise FamilyAnswersError("part2")
    with transaction.atomic():
        answers, _created = FamilyAnswers.objects.select_for_update(no_key=True).get_or_create(
            assignment=assignment,
            author=author,
            defaults={
                "organization_id": patient.organization_id,
                "record_category": category.value,
            },
        )
        data = answers.as_dict()
        data.update(values)
        answers.data = json.dumps(data, ensure_ascii=False)
        answers.save(update_fields=["data", "updated_at"])
        audit.record(
            request=None,
            actor=author,
            patient=patient,
            action=Action.CREATE,
            category=Category(answers.record_category),
            purpose=Purpose.FAMILY,
            outcome=AuditEvent.Outcome.ALLOWED,
            obj=answers,
            acting_as=Relation.PROXY.value,
            relation=Relation.PROXY,
        )
    return answers
