"""Proxy scopes are enforced by the gate: ``decide(..., scope=...)`` and ``access_as_proxy``."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from django.test import RequestFactory

from tether.patients.models import Proxy
from tether.privacy.gate import access_as_proxy, decide, family_category_for, patients_visible_to
from tether.privacy.models import AuditEvent
from tether.privacy.policy import Action, Category
from tether.testing.family import grant, make_part2

S = Proxy.Scope


def _request(user: Any) -> Any:
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_it_lets_a_proxy_view_only_the_scopes_they_hold(cast):
    teen = cast.adolescent.patient
    for scope in (S.ATTENDANCE, S.APPOINTMENTS):  # the cast's defaults
        assert decide(
            cast.parent, teen, category=Category.GENERAL, action=Action.VIEW, scope=scope
        ).allowed
    for scope in (S.FAMILY_UPDATES, S.FAMILY_ASSIGNMENTS, S.MESSAGING):
        assert not decide(
            cast.parent, teen, category=Category.GENERAL, action=Action.VIEW, scope=scope
        ).allowed
    grant(cast, S.FAMILY_ASSIGNMENTS)
    assert decide(
        cast.parent, teen, category=Category.GENERAL, action=Action.VIEW, scope=S.FAMILY_ASSIGNMENTS
    ).allowed


def test_it_lets_a_proxy_write_only_a_message_or_their_part_of_a_family_assignment(cast):
    teen = cast.adolescent.patient
    grant(cast, *S.values)
    allowed = {
        scope
        for scope in S
        if decide(
            cast.parent, teen, category=Category.GENERAL, action=Action.CREATE, scope=scope
        ).allowed
    }
    assert allowed == {S.MESSAGING, S.FAMILY_ASSIGNMENTS}
    # Without a scope a proxy never writes, whatever they hold.
    assert not decide(cast.parent, teen, category=Category.GENERAL, action=Action.CREATE).allowed
    assert not patients_visible_to(cast.parent, category=Category.GENERAL, action=Action.CREATE)
    grant(cast, only=True)
    for scope in (S.MESSAGING, S.FAMILY_ASSIGNMENTS):
        assert not decide(
            cast.parent, teen, category=Category.GENERAL, action=Action.CREATE, scope=scope
        ).allowed


@pytest.mark.parametrize(
    "category",
    [c for c in Category if c != Category.GENERAL],
)
def test_it_never_opens_anything_but_general_to_a_proxy_whatever_the_scopes(cast, category):
    grant(cast, *S.values)
    for scope in [None, *S]:
        for action in Action:
            assert not decide(
                cast.parent, cast.adolescent.patient, category=category, action=action, scope=scope
            ).allowed, (scope, action)


def test_it_ignores_scopes_on_someone_elses_patient(cast):
    grant(cast, *S.values)
    assert not decide(
        cast.parent,
        cast.patient.patient,
        category=Category.GENERAL,
        action=Action.VIEW,
        scope=S.ATTENDANCE,
    ).allowed


def test_it_returns_the_patient_and_audits_the_family_look(cast):
    grant(cast, S.FAMILY_UPDATES)
    patient = access_as_proxy(
        _request(cast.parent), cast.adolescent.patient.pk, scope=S.FAMILY_UPDATES
    )
    assert patient == cast.adolescent.patient
    event = AuditEvent.objects.latest("id")
    assert (event.outcome, event.acting_as, event.purpose) == ("allowed", "proxy", "FAMRQT")


@pytest.mark.parametrize(
    "who, whose",
    [
        ("parent", "adolescent"),  # without the scope
        ("parent", "patient"),  # another patient's account
        ("patient", "patient"),  # a patient is not a proxy, even on their own record
        ("adolescent", "adolescent"),
        ("assigned_clinician", "adolescent"),
        ("other_org_clinician", "adolescent"),
    ],
)
def test_it_refuses_and_audits_everyone_else(cast, who, whose):
    before = AuditEvent.objects.filter(outcome="denied").count()
    with pytest.raises(Http404):
        access_as_proxy(
            _request(getattr(cast, who)), getattr(cast, whose).patient.pk, scope=S.FAMILY_UPDATES
        )
    assert AuditEvent.objects.filter(outcome="denied").count() == before + 1


def test_it_refuses_a_revoked_scope_at_once(cast):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    request = _request(cast.parent)
    access_as_proxy(request, cast.adolescent.patient.pk, scope=S.FAMILY_ASSIGNMENTS)
    grant(cast, only=True)
    with pytest.raises(Http404):
        access_as_proxy(request, cast.adolescent.patient.pk, scope=S.FAMILY_ASSIGNMENTS)


def test_it_refuses_part2_family_content_to_a_proxy_even_with_the_scope(cast):
    grant(cast, S.FAMILY_ASSIGNMENTS)
    make_part2(cast.adolescent_iop)
    label = family_category_for(cast.adolescent.patient)
    assert label == Category.PART2
    with pytest.raises(Http404):
        access_as_proxy(
            _request(cast.parent),
            cast.adolescent.patient.pk,
            scope=S.FAMILY_ASSIGNMENTS,
            category=label,
        )


def test_it_labels_family_content_general_outside_part2_programs(cast):
    assert family_category_for(cast.adolescent.patient) == Category.GENERAL
