"""Writes about patients: registration at intake."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.db import transaction
from django.utils.text import slugify

from tether.accounts.models import User
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, LevelOfCare, Patient
from tether.privacy import audit
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category


def username_suggest(*, first_name: str, last_name: str) -> str:
    """A short username a person can read aloud: first name, initial, two digits."""
    first = re.sub(r"[^a-z0-9]", "", slugify(first_name))[:16] or "patient"
    initial = re.sub(r"[^a-z0-9]", "", slugify(last_name))[:1]
    base = f"{first}.{initial}" if initial else first
    while True:
        candidate = f"{base}{secrets.randbelow(90) + 10}"
        if not User.objects.filter(username__iexact=candidate).exists():
            return candidate


@transaction.atomic
def patient_register(
    *,
    registered_by: StaffMember,
    program: Program,
    first_name: str,
    last_name: str,
    preferred_name: str,
    date_of_birth: dt.date,
    record_number: str,
    mobile_phone: str,
    email: str,
    level_of_care: str,
    admitted_on: dt.date,
    primary_therapist: StaffMember | None,
) -> Patient:
    """Create the patient, their login (no password yet) and their first episode."""
    if program.organization_id != registered_by.organization_id:
        raise ValueError("Program belongs to another organization.")
    organization = registered_by.organization
    user = User(
        username=username_suggest(first_name=first_name, last_name=last_name),
        first_name=first_name,
        last_name=last_name,
        email=email,
        kind=User.Kind.PATIENT,
        organization=organization,
    )
    user.set_unusable_password()
    user.save()
    patient = Patient.objects.create(
        organization=organization,
        user=user,
        first_name=first_name,
        last_name=last_name,
        preferred_name=preferred_name,
        date_of_birth=date_of_birth,
        record_number=record_number,
        mobile_phone=mobile_phone,
    )
    episode = Episode.objects.create(
        organization=organization,
        patient=patient,
        program=program,
        level_of_care=LevelOfCare(level_of_care),
        admitted_on=admitted_on,
    )
    if primary_therapist is not None:
        CareTeamMember.objects.create(
            organization=organization,
            episode=episode,
            staff_member=primary_therapist,
            role=CareTeamMember.Role.PRIMARY_THERAPIST,
            started_on=admitted_on,
        )
    audit.record(
        request=None,
        actor=registered_by.user,
        patient=patient,
        action=Action.CREATE,
        category=Category.GENERAL,
        purpose=Purpose.OPERATIONS,
        outcome=AuditEvent.Outcome.ALLOWED,
        obj=patient,
    )
    return patient
