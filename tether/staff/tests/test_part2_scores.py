"""Check-in scores from a Part 2 program (labelled ``part2`` at capture) are shown on
the caseload board and in the pre-session review only to people the gate lets see
the patient's Part 2 record: the care team, not the program's clinical lead."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tether.checkins.models import Response
from tether.flags.testing import add_response
from tether.staff.caseload import caseload_for
from tether.staff.review import review_data


def _phq9_series(cast: Any) -> None:
    now = timezone.now()
    patient = cast.patient.patient
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=5)
    add_response(patient, "phq9", now - dt.timedelta(days=1), total=17)


@pytest.fixture
def part2(cast: Any) -> Any:
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    _phq9_series(cast)
    assert set(Response.objects.values_list("record_category", flat=True)) == {"part2"}
    return cast


def _row(user: Any, cast: Any) -> Any:
    return next(r for r in caseload_for(user=user) if r.pk == cast.patient.patient.pk)


def test_the_board_shows_part2_scores_to_the_care_team_only(part2):
    assert _row(part2.assigned_clinician, part2).phq9_latest == 17
    lead_row = _row(part2.clinical_lead, part2)
    assert lead_row.phq9_latest is None
    assert lead_row.last_checkin_at is None


def test_the_review_page_shows_part2_scores_to_the_care_team_only(part2, client_as):
    url = f"/staff/patients/{part2.patient.patient.pk}/review/"
    mine = client_as(part2.assigned_clinician).get(url)
    assert mine.status_code == 200
    assert "PHQ-9" in mine.content.decode() and ">17 <" in mine.content.decode()
    lead = client_as(part2.clinical_lead).get(url)
    assert lead.status_code == 200
    assert ">17 <" not in lead.content.decode()


def test_review_data_leaves_part2_scores_out_unless_asked(part2):
    patient = part2.patient.patient
    assert review_data(patient=patient)["scores"] == []
    scores = review_data(patient=patient, include_part2=True)["scores"]
    assert [(s["name"], s["latest"], s["from_baseline"]) for s in scores] == [("PHQ-9", 17, 12)]


def test_outside_a_part2_program_the_lead_sees_the_scores(cast):
    _phq9_series(cast)
    assert _row(cast.clinical_lead, cast).phq9_latest == 17


def test_the_board_says_hidden_for_part2_never_a_false_never(part2, client_as):
    from django.urls import reverse

    lead = client_as(part2.clinical_lead).get(reverse("staff:dashboard")).content.decode()
    row = lead[lead.index("Garcia") :].split("</tr>")[0]
    assert "Hidden, not missing" in row and "42 CFR Part 2" in row
    assert "Never" not in row.split("Hidden")[1].split("</td>")[0]
    assert _row(part2.clinical_lead, part2).part2_hidden == 1
    mine = client_as(part2.assigned_clinician).get(reverse("staff:dashboard")).content.decode()
    assert "Hidden, not missing" not in mine[mine.index("Garcia") :].split("</tr>")[0]


def test_the_review_says_part2_scores_are_hidden_to_the_lead(part2, client_as):
    url = f"/staff/patients/{part2.patient.patient.pk}/review/"
    lead = client_as(part2.clinical_lead).get(url).content.decode()
    assert "Hidden, not missing:" in lead
    mine = client_as(part2.assigned_clinician).get(url).content.decode()
    assert "Hidden, not missing:" not in mine
