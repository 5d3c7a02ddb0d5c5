"""The rules settings page: a program's clinical lead and admin see every rule and
change one through ``rule_update``; a nonsense value is refused with the service's
message, what was typed stays, and nothing changes. Nobody else gets in."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tether.flags.models import FlagRule
from tether.flags.rules import RULES
from tether.flags.services import rules_ensure_defaults
from tether.organizations.models import StaffMember
from tether.privacy.models import AuditEvent
from tether.testing.cast import make_staff

URL = reverse("flags:rules")


def _rule(cast: Any, code: str) -> FlagRule:
    rules_ensure_defaults(programs=[cast.iop, cast.adolescent_iop])
    return FlagRule.objects.get(program=cast.iop, code=code)


def _post(rule: FlagRule, **changes: Any) -> dict[str, Any]:
    data = {
        "threshold": rule.threshold,
        "window_days": rule.window_days,
        "severity": rule.severity,
        "enabled": "on" if rule.enabled else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


@pytest.mark.parametrize("persona", ["clinical_lead", "program_admin"])
def test_it_lists_every_rule_of_each_program_with_its_meaning(cast, client_as, persona):
    body = client_as(getattr(cast, persona)).get(URL).content.decode()
    assert "Adult IOP" in body and "Adolescent IOP" in body
    for spec in RULES.values():
        assert body.count(str(spec.label)) >= 2  # one row per program
    days = RULES["no_login"].threshold
    assert f"Has not signed in to the portal for {days} days or more." in body


def test_it_says_when_a_program_never_asks_about_craving(cast, client_as):
    never = "This program does not ask about craving, so this rule never fires here."
    assert client_as(cast.clinical_lead).get(URL).content.decode().count(never) == 2
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    assert client_as(cast.clinical_lead).get(URL).content.decode().count(never) == 1


def test_the_queue_links_to_the_rules_for_the_clinical_lead_only(cast, client_as):
    queue = reverse("flags:queue")
    assert URL in client_as(cast.clinical_lead).get(queue).content.decode()
    assert URL not in client_as(cast.assigned_clinician).get(queue).content.decode()


def test_a_lead_changes_a_threshold_and_the_change_is_audited(cast, client_as):
    rule = _rule(cast, "homework_late")
    client = client_as(cast.clinical_lead)
    url = reverse("flags:rule_edit", args=[rule.pk])
    response = client.post(url, _post(rule, threshold=4, severity=2))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.threshold, rule.severity) == (4, 2)
    assert AuditEvent.objects.filter(
        object_type="flags.flagrule", object_id=str(rule.pk), action="update"
    ).exists()
    page = client.get(URL).content.decode()
    assert "saved for Adult IOP" in page
    # The other program's rule is untouched.
    other = FlagRule.objects.get(program=cast.adolescent_iop, code="homework_late")
    assert other.threshold == RULES["homework_late"].threshold


def test_an_admin_turns_a_rule_off(cast, client_as):
    rule = _rule(cast, "no_reply")
    client = client_as(cast.program_admin)
    response = client.post(reverse("flags:rule_edit", args=[rule.pk]), _post(rule, enabled=""))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.enabled is False
    assert rule.window_days == RULES["no_reply"].window_days  # not asked, kept


@pytest.mark.parametrize("typed", ["0", "500", "-3"])
def test_a_nonsense_threshold_is_refused_and_nothing_changes(cast, client_as, typed):
    rule = _rule(cast, "phq9_deterioration")
    before = AuditEvent.objects.count()
    client = client_as(cast.clinical_lead)
    response = client.post(
        reverse("flags:rule_edit", args=[rule.pk]), _post(rule, threshold=typed, severity=3)
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The threshold for this rule must be between 3 and 27 points." in body
    assert f'value="{typed}"' in body  # what was typed is still there
    rule.refresh_from_db()
    assert (rule.threshold, rule.severity) == (6, 2)
    assert AuditEvent.objects.filter(object_type="flags.flagrule").count() == 0
    assert AuditEvent.objects.count() == before


def test_a_threshold_that_is_not_a_number_is_refused_and_kept(cast, client_as):
    rule = _rule(cast, "missed_checkins")
    response = client_as(cast.clinical_lead).post(
        reverse("flags:rule_edit", args=[rule.pk]), _post(rule, threshold="three")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a whole number." in body and 'value="three"' in body
    rule.refresh_from_db()
    assert rule.threshold == RULES["missed_checkins"].threshold


def test_a_bad_window_is_refused_next_to_its_field(cast, client_as):
    rule = _rule(cast, "mood_drop")
    response = client_as(cast.clinical_lead).post(
        reverse("flags:rule_edit", args=[rule.pk]), _post(rule, window_days=365)
    )
    assert response.status_code == 400
    assert "A rule can look back between 1 and 90 days." in response.content.decode()
    rule.refresh_from_db()
    assert rule.window_days == RULES["mood_drop"].window_days


@pytest.mark.parametrize(
    "persona",
    [
        "assigned_clinician",
        "on_call",
        "front_desk",
        "privacy_officer",
        "other_org_clinician",
        "patient",
    ],
)
def test_other_people_cannot_reach_a_rule(cast, client_as, persona):
    rule = _rule(cast, "homework_late")
    client = client_as(getattr(cast, persona))
    url = reverse("flags:rule_edit", args=[rule.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, _post(rule, threshold=5)).status_code == 404
    rule.refresh_from_db()
    assert rule.threshold == RULES["homework_late"].threshold


def test_another_programs_lead_cannot_change_this_programs_rule(cast, client_as):
    teen_lead = make_staff(
        cast.organization, "tess.lead", StaffMember.Role.CLINICAL_LEAD, [cast.adolescent_iop]
    )
    rule = _rule(cast, "homework_late")
    client = client_as(teen_lead)
    url = reverse("flags:rule_edit", args=[rule.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, _post(rule, threshold=5)).status_code == 404
    rule.refresh_from_db()
    assert rule.threshold == RULES["homework_late"].threshold
    page = client.get(URL).content.decode()
    assert "Adolescent IOP" in page and "Adult IOP" not in page


def _resolved(cast: Any, rule: FlagRule, action: str, n: int = 1) -> None:
    from django.utils import timezone

    from tether.flags.models import Flag

    now = timezone.now()
    for _i in range(n):
        Flag.objects.create(
            organization=cast.organization,
            patient=cast.patient.patient,
            rule=rule,
            kind=rule.kind,
            severity=rule.severity,
            reason=rule.code,
            source_type="patients.episode",
            source_id=1,
            raised_at=now,
            status="closed",
            closed_at=now,
            action=action,
        )


def test_the_lead_sees_each_rules_share_of_useful_flags_with_constant_queries(cast, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    disengagement = _rule(cast, "disengagement")
    mood = FlagRule.objects.get(program=cast.iop, code="mood_drop")
    _resolved(cast, disengagement, "called", 2)
    _resolved(cast, disengagement, "no_action", 1)
    client = client_as(cast.clinical_lead)
    with CaptureQueriesContext(connection) as few:
        body = client.get(URL).content.decode()
    assert "2 useful / 1 no action (67% useful)" in body
    assert "none resolved" in body  # every other rule
    _resolved(cast, mood, "no_action", 6)
    _resolved(cast, FlagRule.objects.get(program=cast.adolescent_iop, code="phq9_rise"), "plan", 4)
    with CaptureQueriesContext(connection) as many:
        body = client.get(URL).content.decode()
    assert "0 useful / 6 no action (0% useful)" in body
    assert "4 useful / 0 no action (100% useful)" in body
    assert len(many) == len(few)
