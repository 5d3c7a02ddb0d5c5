"""A list page's relations are read once per request (``gate.held_relations``), a page's
few ids are checked against the request's set without a query (``gate.visible_among``),
and a person's own relations read by their keys (the arrays of ``_relation_conditions``)
give the same answers as before: care team, break glass, a family member's."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tether.accounts.models import User
from tether.patients.models import CareTeamMember
from tether.privacy.gate import (
    decisions_once,
    held_relations,
    list_relations,
    own_visible_ids,
    patients_visible_to,
    relations_to,
    visible_among,
)
from tether.privacy.models import BreakGlassGrant
from tether.privacy.policy import Category, Relation


def _grant(user, patient) -> None:
    now = timezone.now()
    BreakGlassGrant.objects.create(
        organization_id=patient.organization_id,
        user=user,
        patient=patient,
        reason="other: test situation, no real emergency",
        started_at=now - dt.timedelta(minutes=1),
        expires_at=now + dt.timedelta(minutes=59),
    )


def test_the_strongest_relation_per_patient_for_each_category(cast):
    clinician = cast.assigned_clinician
    mine, teen, other = cast.patient.patient, cast.adolescent.patient, cast.other_patient.patient
    _grant(clinician, other)  # not on their care team: emergency access only
    ids = [mine.pk, teen.pk, other.pk]
    assert list_relations(clinician, ids, category=Category.SELF_REPORT) == {
        mine.pk: Relation.CARE_TEAM,
        teen.pk: Relation.CARE_TEAM,
        other.pk: Relation.BREAK_GLASS,
    }
    # Nobody else's patients, whatever ids are asked about.
    assert list_relations(cast.unassigned_clinician, [mine.pk], category=Category.SELF_REPORT) == {}
    assert list_relations(cast.other_org_clinician, ids, category=Category.SELF_REPORT) == {}
    # A family member is never a list's relation (a list is a staff page).
    assert list_relations(cast.parent, [teen.pk], category=Category.GENERAL) == {}


def test_two_categories_of_one_list_ask_the_database_once_per_request(cast):
    clinician = cast.assigned_clinician
    ids = [cast.patient.patient.pk, cast.adolescent.patient.pk]
    with decisions_once():
        with CaptureQueriesContext(connection) as first:
            held = held_relations(clinician, ids)
        with CaptureQueriesContext(connection) as again:
            assert held_relations(clinician, ids) == held
            assert list_relations(clinician, ids, category=Category.PART2).keys() <= set(ids)
    assert len(first) >= 1
    assert len(again) == 0
    # Outside a request (a POST, a job) nothing is remembered.
    with CaptureQueriesContext(connection) as outside:
        held_relations(clinician, ids)
    assert len(outside) >= 1


def test_a_caseload_is_read_once_for_every_category_its_relations_open(cast):
    """A clinician's care team and break-glass grants open their self-report, Part 2,
    shared and general records alike: one read of the caseload for all of them. A lead's
    Part 2 records are opened by their own relations only (a subquery for the rest)."""
    clinician = cast.assigned_clinician
    mine = {cast.patient.patient.pk, cast.adolescent.patient.pk}
    categories = (Category.SELF_REPORT, Category.PART2, Category.SHARED, Category.GENERAL)
    with decisions_once(), CaptureQueriesContext(connection) as read:
        found = [own_visible_ids(clinician, category) for category in categories]
    assert len(read) == 1
    assert all(ids is not None and set(ids) == mine for ids in found)
    with decisions_once():
        other = own_visible_ids(cast.unassigned_clinician, Category.PART2)
    assert other is not None and set(other) & mine == set()
    lead = cast.clinical_lead
    with decisions_once():
        assert own_visible_ids(lead, Category.SELF_REPORT) is None  # a program's relation
        own = own_visible_ids(lead, Category.PART2)
        assert own is not None and set(own) == set(
            patients_visible_to(lead, category=Category.PART2).values_list("pk", flat=True)
        )


def test_a_pages_ids_against_the_requests_set(cast):
    clinician = cast.assigned_clinician
    mine, other = cast.patient.patient, cast.other_patient.patient
    with decisions_once():
        assert visible_among(clinician, [mine.pk, other.pk], category=Category.PART2) == {mine.pk}
        with CaptureQueriesContext(connection) as used:
            found = visible_among(clinician, [mine.pk, other.pk], category=Category.SELF_REPORT)
            assert list_relations(clinician, [mine.pk], category=Category.SELF_REPORT)
        assert found == {mine.pk}
        assert len(used) == 0  # the relations read for the first category
    # Without the request's set: one query, the same answer.
    assert visible_among(clinician, [mine.pk, other.pk], category=Category.SELF_REPORT) == {mine.pk}
    assert visible_among(clinician, [], category=Category.SELF_REPORT) == set()
    # A lead's program; the front desk's (general records only); a family member's own.
    both = [mine.pk, other.pk]
    assert visible_among(cast.clinical_lead, both, category=Category.SELF_REPORT) == set(both)
    assert visible_among(cast.front_desk, both, category=Category.SELF_REPORT) == set()
    assert visible_among(cast.front_desk, both, category=Category.GENERAL) == set(both)
    teen = cast.adolescent.patient.pk
    assert visible_among(cast.parent, [teen, mine.pk], category=Category.GENERAL) == {teen}
    assert visible_among(cast.parent, [teen], category=Category.SELF_REPORT) == set()
    # The same answers as the gate's set, for every persona and category.
    everyone = [cast.patient.patient.pk, cast.other_patient.patient.pk, teen]
    for user in cast.personas().values():
        for category in Category:
            expected = set(
                patients_visible_to(user, category=category)
                .filter(pk__in=everyone)
                .values_list("pk", flat=True)
            )
            assert visible_among(user, everyone, category=category) == expected, (user, category)


def test_own_relations_end_when_the_row_does(cast):
    clinician = cast.assigned_clinician
    mine = cast.patient.patient
    assert mine in patients_visible_to(clinician, category=Category.SELF_REPORT)
    CareTeamMember.objects.filter(
        staff_member=clinician.staff_member, episode__patient=mine
    ).update(ended_on=timezone.localdate())
    assert mine not in patients_visible_to(clinician, category=Category.SELF_REPORT)
    assert list_relations(clinician, [mine.pk], category=Category.SELF_REPORT) == {}
    # A family member's own link (the proxy row) opens their patient, and only theirs.
    visible = set(patients_visible_to(cast.parent, category=Category.GENERAL))
    assert visible == {cast.adolescent.patient}


def test_one_kept_statement_per_shape_answers_each_user_with_their_own_values(cast):
    """The relations' statements are compiled once per shape of user (tether.lib.statements)
    and reused for the next user of that shape with their ids bound: each user still gets
    their own patients, and a change between two requests shows at once."""
    mine, other = cast.patient.patient, cast.other_patient.patient
    assigned, unassigned = cast.assigned_clinician, cast.unassigned_clinician
    everyone = [mine.pk, other.pk, cast.adolescent.patient.pk]

    def request(
        user: User, category: Category = Category.SELF_REPORT
    ) -> tuple[set[int], dict[int, list[Relation]], list[Relation]]:
        with decisions_once():  # one request: the ids and relations read once, kept
            ids = set(patients_visible_to(user, category=category).values_list("pk", flat=True))
            return ids, held_relations(user, everyone), relations_to(user, mine)

    ids, held, to_mine = request(assigned)
    assert mine.pk in ids and Relation.CARE_TEAM in held[mine.pk]
    assert to_mine == [Relation.CARE_TEAM]
    ids, held, to_mine = request(unassigned)  # the same shape: the kept statements
    assert mine.pk not in ids and held[mine.pk] == [] and to_mine == []
    _grant(unassigned, mine)
    ids, held, to_mine = request(unassigned)
    assert mine.pk in ids and to_mine == [Relation.BREAK_GLASS]
    assert request(assigned)[2] == [Relation.CARE_TEAM]  # and the first user's own again
    # Inside a request and outside it (the gate's conditions built with the ORM, per
    # statement), every persona gets the same patients for every category.
    for user in cast.personas().values():
        for category in Category:
            outside = set(
                patients_visible_to(user, category=category)
                .filter(pk__in=everyone)
                .values_list("pk", flat=True)
            )
            inside = request(user, category)[0] & set(everyone)
            assert inside == outside, (user, category)
