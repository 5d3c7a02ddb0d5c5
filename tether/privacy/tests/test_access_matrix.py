"""The access matrix: the gate against a table a privacy officer reviews.

``access_matrix.csv`` (next to this file) holds one row per role x relation x
category x action with the expected outcome and a short reason. It is written
and reviewed by people, not generated from ``policy.RULES``, so this test
compares the policy with an independent statement of what it should do.

The combinations themselves are generated here: every role that can sign in,
every relation a person of that role can have to a patient (including the
situations that should give nothing, like an expired grant or a care-team row
for a non-clinical role), every category and every action. A new role,
relation, category or action makes the table incomplete and fails the test
until its rows are added and reviewed.

Each relation is built as a real situation in the database from the ``cast``,
and both ``decide()`` and ``patients_visible_to()`` must agree with the table.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone

from tether.accounts.models import User
from tether.consent.models import ConsentDirective, Recipient
from tether.organizations.models import Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, Patient, Proxy
from tether.privacy.gate import (
    decide,
    decisions_once,
    may_disclose,
    patients_visible_to,
    proxy_scopes_open,
)
from tether.privacy.models import BreakGlassGrant, Purpose
from tether.privacy.policy import Action, Category, Relation
from tether.testing.cast import Cast, make_staff

MATRIX = Path(__file__).with_name("access_matrix.csv")
COLUMNS = ["role", "relation", "category", "action", "expected", "reason"]
Situation = Callable[[Cast], tuple[User, Patient]]


# --- Building each relation in the database --------------------------------------------


def _staff(user: User) -> StaffMember:
    return StaffMember.objects.get(user=user)


def _without_programs(user: User) -> User:
    _staff(user).programs.clear()
    return user


def _episode(patient: Patient) -> Episode:
    return Episode.objects.get(patient=patient, status=Episode.Status.ACTIVE)


def _join_care_team(user: User, patient: Patient) -> None:
    episode = _episode(patient)
    CareTeamMember.objects.create(
        organization_id=episode.organization_id,
        episode=episode,
        staff_member=_staff(user),
        role=CareTeamMember.Role.CASE_MANAGER,
        started_on=episode.admitted_on,
    )


def _grant(user: User, patient: Patient, *, expired: bool = False) -> None:
    now = timezone.now()
    BreakGlassGrant.objects.create(
        organization_id=patient.organization_id,
        user=user,
        patient=patient,
        reason="other: matrix test situation, no real emergency",
        started_at=now - dt.timedelta(minutes=90 if expired else 1),
        expires_at=now - dt.timedelta(minutes=30) if expired else now + dt.timedelta(minutes=59),
    )


def _stranger(cast: Cast, role: StaffMember.Role) -> User:
    """Someone of ``role`` in the other organization with every link the database allows
    to our patient: care-team row, our programs, a break-glass grant. Tenancy alone
    must keep them out."""
    if role == StaffMember.Role.CLINICIAN:
        user = cast.other_org_clinician
    else:
        other_program = Program.objects.get(organization=cast.other_organization)
        user = make_staff(cast.other_organization, f"stranger.{role}", role, [other_program])
    patient = cast.patient.patient
    _staff(user).programs.add(cast.iop, cast.adolescent_iop)
    _join_care_team(user, patient)
    _grant(user, patient)
    return user


def _moved_to_other_org(user: User, cast: Cast) -> User:
    user.organization = cast.other_organization
    user.save(update_fields=["organization"])
    return user


def _care_team(persona: str) -> Situation:
    def build(cast: Cast) -> tuple[User, Patient]:
        user = _without_programs(getattr(cast, persona))
        _join_care_team(user, cast.patient.patient)
        return user, cast.patient.patient

    return build


def _break_glass(persona: str, *, expired: bool = False) -> Situation:
    def build(cast: Cast) -> tuple[User, Patient]:
        user = _without_programs(getattr(cast, persona))
        _grant(user, cast.patient.patient, expired=expired)
        return user, cast.patient.patient

    return build


def _program(persona: str) -> Situation:
    return lambda cast: (getattr(cast, persona), cast.patient.patient)


def _no_relation(persona: str) -> Situation:
    return lambda cast: (_without_programs(getattr(cast, persona)), cast.patient.patient)


def _other_organization(role: StaffMember.Role) -> Situation:
    return lambda cast: (_stranger(cast, role), cast.patient.patient)


def _care_team_ended(cast: Cast) -> tuple[User, Patient]:
    CareTeamMember.objects.filter(staff_member__user=cast.assigned_clinician).update(
        ended_on=timezone.localdate()
    )
    return cast.assigned_clinician, cast.patient.patient


def _staff_inactive(cast: Cast) -> tuple[User, Patient]:
    StaffMember.objects.filter(user=cast.assigned_clinician).update(is_active=False)
    return cast.assigned_clinician, cast.patient.patient


def _program_lead_discharged(cast: Cast) -> tuple[User, Patient]:
    Episode.objects.filter(patient=cast.patient.patient).update(
        status=Episode.Status.DISCHARGED,
        discharged_on=timezone.localdate(),
        discharge_reason=Episode.DischargeReason.COMPLETED,
    )
    return cast.clinical_lead, cast.patient.patient


def _privacy_officer_in_program(cast: Cast) -> tuple[User, Patient]:
    _staff(cast.privacy_officer).programs.add(cast.iop)
    return cast.privacy_officer, cast.patient.patient


def _proxy_inactive(cast: Cast) -> tuple[User, Patient]:
    Proxy.objects.filter(user=cast.parent).update(is_active=False)
    return cast.parent, cast.adolescent.patient


R = StaffMember.Role
SITUATIONS: dict[tuple[str, str], Situation] = {
    ("patient", "self"): lambda cast: (cast.patient, cast.patient.patient),
    ("patient", "none"): lambda cast: (cast.patient, cast.other_patient.patient),
    ("patient", "other_organization"): lambda cast: (
        _moved_to_other_org(cast.patient, cast),
        cast.patient.patient,
    ),
    ("proxy", "proxy"): lambda cast: (cast.parent, cast.adolescent.patient),
    ("proxy", "proxy_inactive"): _proxy_inactive,
    ("proxy", "none"): lambda cast: (cast.parent, cast.patient.patient),
    ("proxy", "other_organization"): lambda cast: (
        _moved_to_other_org(cast.parent, cast),
        cast.adolescent.patient,
    ),
    ("clinician", "care_team"): lambda cast: (cast.assigned_clinician, cast.patient.patient),
    ("clinician", "care_team_ended"): _care_team_ended,
    ("clinician", "break_glass"): _break_glass("unassigned_clinician"),
    ("clinician", "break_glass_expired"): _break_glass("unassigned_clinician", expired=True),
    ("clinician", "program_member"): _program("unassigned_clinician"),
    ("clinician", "staff_inactive"): _staff_inactive,
    ("clinician", "none"): _no_relation("unassigned_clinician"),
    ("clinician", "other_organization"): _other_organization(R.CLINICIAN),
    ("clinical_lead", "care_team"): _care_team("clinical_lead"),
    ("clinical_lead", "break_glass"): _break_glass("clinical_lead"),
    ("clinical_lead", "program_lead"): _program("clinical_lead"),
    ("clinical_lead", "program_lead_discharged"): _program_lead_discharged,
    ("clinical_lead", "none"): _no_relation("clinical_lead"),
    ("clinical_lead", "other_organization"): _other_organization(R.CLINICAL_LEAD),
    ("on_call", "care_team"): _care_team("on_call"),
    ("on_call", "break_glass"): _break_glass("on_call"),
    ("on_call", "program_on_call"): _program("on_call"),
    ("on_call", "none"): _no_relation("on_call"),
    ("on_call", "other_organization"): _other_organization(R.ON_CALL),
    ("front_desk", "program_front_desk"): _program("front_desk"),
    ("front_desk", "care_team"): _care_team("front_desk"),
    ("front_desk", "break_glass"): _break_glass("front_desk"),
    ("front_desk", "none"): _no_relation("front_desk"),
    ("front_desk", "other_organization"): _other_organization(R.FRONT_DESK),
    ("program_admin", "program_admin"): _program("program_admin"),
    ("program_admin", "care_team"): _care_team("program_admin"),
    ("program_admin", "none"): _no_relation("program_admin"),
    ("program_admin", "other_organization"): _other_organization(R.PROGRAM_ADMIN),
    ("privacy_officer", "program_member"): _privacy_officer_in_program,
    ("privacy_officer", "care_team"): _care_team("privacy_officer"),
    ("privacy_officer", "none"): _no_relation("privacy_officer"),
    ("privacy_officer", "other_organization"): _other_organization(R.PRIVACY_OFFICER),
}

# --- Recipients outside the program (consent states, 42 CFR Part 2) ---------------------
# A recipient never signs in; the gate's ``may_disclose`` decides whether an update may be
# pushed to them. Each state is built for a recipient of the patient's organization.

RecipientSituation = Callable[[Cast], tuple[Recipient, Patient]]


def _recipient(cast: Cast, name: str = "Dr. Primary", *, other_org: bool = False) -> Recipient:
    return Recipient.objects.create(
        organization=cast.other_organization if other_org else cast.organization,
        name=name,
        recipient_organization="Main Street Clinic",
        kind=Recipient.Kind.PRIMARY_CARE,
    )


def _consent(
    patient: Patient,
    recipient: Recipient,
    category: Category,
    *,
    expires_on: dt.date | None = None,
    revoked: bool = False,
) -> None:
    ConsentDirective.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        discloser="the program",
        recipient=recipient,
        category=category.value,
        description="matrix test situation",
        purpose=Purpose.TREATMENT,
        expires_on=expires_on or timezone.localdate() + dt.timedelta(days=30),
        revoke_statement="r",
        redisclosure_statement="r",
        refusal_statement="r",
        signature_name="Pat Patient",
        signed_at=timezone.now() - dt.timedelta(days=1),
        signed_via=ConsentDirective.SignedVia.PORTAL,
        revoked_at=timezone.now() if revoked else None,
    )


def _with_consent(
    category: Category,
    *,
    expired: bool = False,
    revoked: bool = False,
    wrong_recipient: bool = False,
    other_org: bool = False,
) -> RecipientSituation:
    def build(cast: Cast) -> tuple[Recipient, Patient]:
        patient = cast.patient.patient
        recipient = _recipient(cast, other_org=other_org)
        named = _recipient(cast, "Dr. Someone Else") if wrong_recipient else recipient
        expires_on = timezone.localdate() - dt.timedelta(days=1) if expired else None
        _consent(patient, named, category, expires_on=expires_on, revoked=revoked)
        return recipient, patient

    return build


def _no_consent(cast: Cast) -> tuple[Recipient, Patient]:
    return _recipient(cast), cast.patient.patient


RECIPIENT_SITUATIONS: dict[str, RecipientSituation] = {
    "consent_none": _no_consent,
    "consent_granted": _with_consent(Category.PART2),
    "consent_expired": _with_consent(Category.PART2, expired=True),
    "consent_revoked": _with_consent(Category.PART2, revoked=True),
    "consent_wrong_recipient": _with_consent(Category.PART2, wrong_recipient=True),
    "consent_wrong_category": _with_consent(Category.MENTAL_HEALTH),
    "other_organization": _with_consent(Category.PART2, other_org=True),
}

# --- Family members' scopes (what part of the account a proxy reaches) --------------------
# The parent of the cast's adolescent holds exactly one scope ("scope_<name>") or every
# scope but that one ("scope_<name>_withheld"); the gate is asked with that scope.


def _proxy_with_scopes(scope: str, *, withheld: bool) -> Callable[[Cast], tuple[User, Patient]]:
    def build(cast: Cast) -> tuple[User, Patient]:
        flags = {f"scope_{s}": (s != scope) if withheld else (s == scope) for s in Proxy.Scope}
        Proxy.objects.filter(user=cast.parent, patient=cast.adolescent.patient).update(**flags)
        return cast.parent, cast.adolescent.patient

    return build


SCOPE_SITUATIONS: dict[str, tuple[str, Callable[[Cast], tuple[User, Patient]]]] = {
    f"scope_{scope}{suffix}": (scope, _proxy_with_scopes(scope, withheld=bool(suffix)))
    for scope in Proxy.Scope.values
    for suffix in ("", "_withheld")
}

CASES = [
    (role, relation, category.value, action.value)
    for role, relation in [
        *SITUATIONS,
        *(("recipient", relation) for relation in RECIPIENT_SITUATIONS),
        *(("proxy", relation) for relation in SCOPE_SITUATIONS),
    ]
    for category in Category
    for action in Action
]


# --- The reviewed table ------------------------------------------------------------------


def read_matrix() -> list[dict[str, str]]:
    with MATRIX.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


EXPECTED = {
    (row["role"], row["relation"], row["category"], row["action"]): row["expected"] == "allow"
    for row in read_matrix()
}


def test_it_has_exactly_one_reviewed_row_for_every_case():
    rows = read_matrix()
    keys = [(r["role"], r["relation"], r["category"], r["action"]) for r in rows]
    assert len(keys) == len(set(keys)), "a case appears twice in access_matrix.csv"
    missing = sorted(set(CASES) - set(keys))
    extra = sorted(set(keys) - set(CASES))
    assert not missing, f"cases with no reviewed row in access_matrix.csv: {missing[:10]}"
    assert not extra, f"rows for cases that no longer exist: {extra[:10]}"
    assert {r["expected"] for r in rows} <= {"allow", "deny"}
    assert all(r["reason"].strip() for r in rows), "every row says why"


def test_it_covers_every_role_and_every_relation_of_the_policy():
    roles = {role for role, _ in SITUATIONS}
    assert roles == {"patient", "proxy", *StaffMember.Role.values}
    assert {"consent_none", "consent_granted", "consent_expired", "consent_revoked"} <= set(
        RECIPIENT_SITUATIONS
    )
    relations = {relation for _, relation in SITUATIONS}
    assert set(Relation.values) <= relations | {"none"}
    assert "other_organization" in relations


def test_it_counts_the_cases():
    # (39 role x relation situations + 7 recipient consent states + 10 proxy scope
    # situations) x 6 categories x 5 actions (view, create, update, export, disclose).
    # Update the number (and docs/PRIVACY.md) when the table grows.
    assert len(CASES) == len(EXPECTED) == 1680


@pytest.mark.parametrize(
    ("role", "relation"), list(SITUATIONS), ids=[f"{role}-{rel}" for role, rel in SITUATIONS]
)
def test_the_gate_matches_the_reviewed_table(cast, role, relation):
    actor, patient = SITUATIONS[(role, relation)](cast)
    actor = User.objects.get(pk=actor.pk)  # no cached staff member or organization
    patient = Patient.objects.get(pk=patient.pk)
    mismatches = []
    for category in Category:
        for action in Action:
            expected = EXPECTED[(role, relation, category.value, action.value)]
            decided = decide(actor, patient, category=category, action=action).allowed
            listed = (
                patients_visible_to(actor, category=category, action=action)
                .filter(pk=patient.pk)
                .exists()
            )
            # The same inside one GET request, where a person's own patients are read
            # once as ids (gate.own_visible_ids) and a program's stay a subquery.
            with decisions_once():
                remembered = [
                    patients_visible_to(actor, category=category, action=action)
                    .filter(pk=patient.pk)
                    .exists()
                    for _twice in range(2)
                ]
            if remembered != [listed, listed]:
                mismatches.append(f"{category.value}/{action.value}: remembered {remembered}")
            if (decided, listed) != (expected, expected):
                mismatches.append(
                    f"{category.value}/{action.value}: table says "
                    f"{'allow' if expected else 'deny'}, decide() {decided}, "
                    f"patients_visible_to() {listed}"
                )
    assert not mismatches, f"{role} with relation {relation}:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("relation", list(RECIPIENT_SITUATIONS))
def test_the_consent_check_matches_the_reviewed_table(cast, relation):
    recipient, patient = RECIPIENT_SITUATIONS[relation](cast)
    mismatches = []
    for category in Category:
        for action in Action:
            expected = EXPECTED[("recipient", relation, category.value, action.value)]
            decided = may_disclose(patient, recipient, category, action)
            if decided != expected:
                mismatches.append(f"{category.value}/{action.value}: table says {expected}")
    assert not mismatches, f"recipient with {relation}:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("relation", list(SCOPE_SITUATIONS))
def test_the_proxy_scopes_match_the_reviewed_table(cast, relation):
    scope, build = SCOPE_SITUATIONS[relation]
    actor, patient = build(cast)
    actor = User.objects.get(pk=actor.pk)
    patient = Patient.objects.get(pk=patient.pk)
    mismatches = []
    for category in Category:
        for action in Action:
            expected = EXPECTED[("proxy", relation, category.value, action.value)]
            decided = decide(actor, patient, category=category, action=action, scope=scope)
            opened = scope in proxy_scopes_open(actor, patient, category=category, action=action)
            if (decided.allowed, opened) != (expected, expected):
                mismatches.append(
                    f"{category.value}/{action.value}: table says "
                    f"{'allow' if expected else 'deny'}, decide() {decided.allowed}, "
                    f"proxy_scopes_open() {opened}"
                )
    assert not mismatches, f"proxy with {relation}:\n" + "\n".join(mismatches)
