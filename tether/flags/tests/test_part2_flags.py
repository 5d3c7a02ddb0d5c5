"""Flags raised from a Part 2 program's data (42 CFR Part 2) are Part 2 records: the
queue, the caseload board and the pre-session review show them only to people the
gate lets see the patient's Part 2 record (their care team), never to the program's
clinical lead or on-call clinician, whatever the rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import User
from tether.flags.models import Flag
from tether.flags.selectors import open_queue
from tether.flags.services import flag_acknowledge, flag_raise, flags_sweep
from tether.flags.testing import add_response
from tether.patients.models import Episode
from tether.privacy.models import AuditEvent

QUEUE = reverse("flags:queue")
BOARD = reverse("staff:dashboard")
WHY = "PHQ-9 is 10 points above the baseline of this episode."


@pytest.fixture
def part2(cast: Any) -> Any:
    """The adult IOP treats substance use (a Part 2 program); Garcia's PHQ-9 rose by
    10 points and the sweep flagged it. Nothing else to flag."""
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    now = timezone.now()
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=1))
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=3)).date())
    patient = cast.patient.patient
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=5)
    add_response(patient, "phq9", now - dt.timedelta(days=1), total=15)
    assert flags_sweep() == {"phq9_deterioration": 1}
    return cast


def _review(cast: Any) -> str:
    return reverse("staff:review", args=[cast.patient.patient.pk])


def test_a_rule_flag_in_a_part2_program_is_stored_and_audited_as_part2(part2):
    flag = Flag.objects.get()
    assert flag.record_category == "part2"
    event = AuditEvent.objects.get(object_type="flags.flag", action="create")
    assert event.category == "part2"


def test_the_queue_shows_a_part2_flag_to_the_care_team_only(part2, client_as):
    assert WHY in client_as(part2.assigned_clinician).get(QUEUE).content.decode()
    for persona in ("clinical_lead", "on_call"):
        body = client_as(getattr(part2, persona)).get(QUEUE).content.decode()
        # After the filter form (its rule menu names every rule, not anyone's flags).
        body = body[body.index("</form>", body.index('id="filters-h"')) :]
        assert WHY not in body, persona
        assert "PHQ-9 reliable deterioration" not in body, persona
    assert client_as(part2.front_desk).get(QUEUE).status_code == 404


def test_someone_without_part2_access_cannot_act_on_the_flag(part2):
    flag = Flag.objects.get()
    for persona in ("clinical_lead", "on_call", "front_desk"):
        with pytest.raises(PermissionDenied):
            flag_acknowledge(actor=getattr(part2, persona), flag=flag)
    flag.refresh_from_db()
    assert flag.acknowledged_at is None
    flag_acknowledge(actor=part2.assigned_clinician, flag=flag)


def test_the_board_counts_a_part2_flag_only_for_the_care_team(part2, client_as):
    assert (
        'class="pill pill--flag"' in client_as(part2.assigned_clinician).get(BOARD).content.decode()
    )
    lead_board = client_as(part2.clinical_lead).get(BOARD).content.decode()
    assert "Garcia" in lead_board  # the patient is on the board, without the flag
    assert 'class="pill pill--flag"' not in lead_board
    desk = client_as(part2.front_desk).get(BOARD).content.decode()
    assert "pill--flag" not in desk


def test_the_review_lists_a_part2_flag_only_for_the_care_team(part2, client_as):
    assert WHY in client_as(part2.assigned_clinician).get(_review(part2)).content.decode()
    lead = client_as(part2.clinical_lead).get(_review(part2))
    assert lead.status_code == 200
    assert WHY not in lead.content.decode()
    assert client_as(part2.front_desk).get(_review(part2)).status_code == 404


def test_a_safety_flag_from_a_part2_check_in_is_part2(part2):
    patient = part2.patient.patient
    episode = patient.episodes.get()
    response = add_response(patient, "phq9", timezone.now(), total=12, items={"9": 1})
    flag, created = flag_raise(
        patient=patient,
        episode=episode,
        kind=Flag.Kind.SAFETY,
        reason="phq9_item9",
        source=response,
    )
    assert created and flag.record_category == "part2"
    assert flag not in open_queue(user=part2.clinical_lead)
    assert flag in open_queue(user=part2.assigned_clinician)


def test_the_same_flags_outside_a_part2_program_are_self_report_for_the_lead(cast, client_as):
    now = timezone.now()
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=1))
    patient = cast.patient.patient
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=5)
    add_response(patient, "phq9", now - dt.timedelta(days=1), total=15)
    flags_sweep()
    flag = Flag.objects.get(reason="phq9_deterioration")
    assert flag.record_category == "self_report"
    assert WHY in client_as(cast.clinical_lead).get(QUEUE).content.decode()
    assert WHY in client_as(cast.clinical_lead).get(_review(cast)).content.decode()


def test_a_craving_flag_is_part2_in_any_program(cast):
    now = timezone.now()
    User.objects.filter(kind="patient").update(last_login=now)
    # Three weeks at the usual level, then four days higher (the default window).
    for day in range(25, 0, -1):
        add_response(
            cast.patient.patient,
            "daily",
            now - dt.timedelta(days=day),
            items={"craving": 2 if day > 4 else 6},
        )
    flags_sweep()
    flag = Flag.objects.get(reason="craving_rise")
    assert flag.record_category == "part2"
    assert flag not in open_queue(user=cast.clinical_lead)


def test_the_migration_labels_existing_flags_of_part2_programs(part2):
    import importlib

    migration = importlib.import_module("tether.flags.migrations.0003_flag_record_category")
    Flag.objects.update(record_category="self_report")  # as stored before the migration
    migration.label_existing(apps, None)
    assert list(Flag.objects.values_list("record_category", flat=True)) == ["part2"]


def test_the_staff_measures_page_hides_a_part2_safety_flag_from_the_lead(part2, client_as):
    patient = part2.patient.patient
    response = add_response(patient, "phq9", timezone.now(), total=12, items={"9": 1})
    flag_raise(
        patient=patient,
        episode=patient.episodes.get(),
        kind=Flag.Kind.SAFETY,
        reason="phq9_item9",
        source=response,
    )
    page = reverse("checkins:staff_measures", args=[patient.pk])
    label = "thoughts of death or self-harm"
    assert label in client_as(part2.assigned_clinician).get(page).content.decode()
    lead = client_as(part2.clinical_lead).get(page)
    assert lead.status_code == 200
    assert label not in lead.content.decode()
