"""PHQ-9 item 9 above 0: help at once for the patient, a flag that cannot be lost."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tether.checkins import services
from tether.checkins.models import Answer, ProgramInstrument, Response
from tether.flags.models import Flag


def _phq9_at_item_9(client: Any, cast: Any) -> Response:
    schedule = ProgramInstrument.objects.get(program=cast.iop, instrument_code="phq9")
    client.post(reverse("checkins:start", args=[schedule.pk]))
    draft = Response.objects.get(patient=cast.patient.patient)
    for position in range(1, 9):
        client.post(_q(draft, position), {"answer": "1"})
    return draft


def _q(draft: Response, position: int) -> str:
    return reverse("checkins:question", kwargs={"key": draft.key, "position": position})


def test_it_shows_crisis_help_right_after_item_9(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _phq9_at_item_9(client, cast)
    answered = client.post(_q(draft, 9), {"answer": "1"})
    support = reverse("checkins:support", kwargs={"key": draft.key, "position": 9})
    assert answered["Location"] == support
    page = client.get(support).content.decode()
    assert "Thank you for telling us" in page
    assert 'href="tel:988"' in page
    assert "555-0100" in page  # the program's own crisis line
    assert "Continue the questions" in page and _q(draft, 10) in page


def test_it_raises_a_safety_flag_that_survives_an_abandoned_questionnaire(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _phq9_at_item_9(client, cast)
    client.post(_q(draft, 9), {"answer": "2"})
    # The patient changes the answer and then walks away: the flag stays, once.
    client.post(_q(draft, 9), {"answer": "0"})
    client.post(_q(draft, 9), {"answer": "3"})
    flag = Flag.objects.get()
    assert (flag.kind, flag.reason, flag.status) == ("safety", "phq9_item9", "open")
    assert flag.patient == cast.patient.patient and flag.source_id == draft.pk
    draft.refresh_from_db()
    assert draft.status == Response.Status.DRAFT


def test_it_stores_the_answer_and_its_flag_together_or_not_at_all(
    measures_on, client_as, monkeypatch
):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _phq9_at_item_9(client, cast)

    def broken(**kwargs):
        raise RuntimeError("the urgent-contact call failed")

    monkeypatch.setattr(services, "risk_detected", broken)
    with pytest.raises(RuntimeError):
        services.answer_save(
            actor=cast.patient, response=draft, item=draft.instrument.spec.item("9"), raw="2"
        )
    assert not Flag.objects.exists()
    assert not Answer.objects.filter(response=draft, item_code="9").exists()


def test_it_shows_the_flag_to_the_care_team_on_the_patient_page(measures_on, client_as):
    cast = measures_on
    draft = _phq9_at_item_9(client_as(cast.patient), cast)
    client_as(cast.patient).post(_q(draft, 9), {"answer": "1"})
    url = reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    for persona in ("assigned_clinician", "on_call", "clinical_lead"):
        page = client_as(getattr(cast, persona)).get(url).content.decode()
        assert "1 open safety flag" in page, persona
        assert "PHQ-9 item 9" in page
    # The front desk may open the patient page but not self-reports.
    page = client_as(cast.front_desk).get(url).content.decode()
    assert "safety flag" not in page and "Check-ins and measures" not in page


def test_it_still_shows_help_when_the_safety_plan_page_is_not_installed(
    measures_on, client_as, monkeypatch
):
    from django.urls import NoReverseMatch

    from tether.checkins.templatetags import checkins as tags

    def missing(name: str) -> str:
        raise NoReverseMatch(name)

    monkeypatch.setattr(tags, "reverse", missing)
    assert tags.safety_plan_url() == ""
    cast = measures_on
    client = client_as(cast.patient)
    draft = _phq9_at_item_9(client, cast)
    client.post(_q(draft, 9), {"answer": "3"})
    page = client.get(reverse("checkins:support", kwargs={"key": draft.key, "position": 9}))
    assert page.status_code == 200 and 'href="tel:988"' in page.content.decode()
    assert "Open my safety plan" not in page.content.decode()


def test_it_shows_staff_the_flagged_answer_in_its_unfinished_questionnaire(measures_on, client_as):
    cast = measures_on
    draft = _phq9_at_item_9(client_as(cast.patient), cast)
    client_as(cast.patient).post(_q(draft, 9), {"answer": "2"})
    url = reverse("checkins:staff_measures", args=[cast.patient.patient.pk])
    page = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "Not finished" in page and "In progress" in page
    assert "item 9: 2" in page


def test_it_starts_the_crisis_pathway_for_the_care_team(measures_on, client_as):
    from tether.crisis.models import UrgentContactRequest

    cast = measures_on
    client = client_as(cast.patient)
    draft = _phq9_at_item_9(client, cast)
    client.post(_q(draft, 9), {"answer": "1"})
    request = UrgentContactRequest.objects.get(patient=cast.patient.patient)
    assert request.source == UrgentContactRequest.Source.CHECKIN
    assert request.status == UrgentContactRequest.Status.OPEN
    # Changing the answer again does not open a second request.
    client.post(_q(draft, 9), {"answer": "3"})
    assert UrgentContactRequest.objects.filter(patient=cast.patient.patient).count() == 1


def test_it_keeps_the_answer_and_flag_when_the_crisis_pathway_fails(
    measures_on, client_as, monkeypatch
):
    import tether.crisis.services as crisis_services

    def unreachable(**kwargs):
        raise RuntimeError("routing failed")

    monkeypatch.setattr(crisis_services, "urgent_contact_raise", unreachable)
    cast = measures_on
    client = client_as(cast.patient)
    draft = _phq9_at_item_9(client, cast)
    response = client.post(_q(draft, 9), {"answer": "2"})
    assert response.status_code == 302  # the patient still sees the support screen
    assert Answer.objects.filter(response=draft, item_code="9").exists()
    assert Flag.objects.filter(patient=cast.patient.patient, kind="safety").exists()


def test_it_tells_the_patient_when_to_expect_a_call_the_time_staff_see(measures_on, client_as):
    from tether.crisis.models import UrgentContactRequest
    from tether.crisis.services import expected_contact_by

    cast = measures_on
    client = client_as(cast.patient)
    draft = _phq9_at_item_9(client, cast)
    client.post(_q(draft, 9), {"answer": "1"})
    urgent = UrgentContactRequest.objects.get(patient=cast.patient.patient)
    promised = timezone.localtime(expected_contact_by(urgent), cast.iop.tzinfo).strftime(
        "%-I:%M %p"
    )
    support = reverse("checkins:support", kwargs={"key": draft.key, "position": 9})
    page = client.get(support).content.decode()
    assert "What happens next" in page
    assert f"Expect a call by {promised}." in page
    assert "call 988 or 911. Do not wait." in page
    staff = client_as(cast.assigned_clinician).get(
        reverse("crisis:staff_request", args=[urgent.pk])
    )
    assert f"<dd>{promised}</dd>" in staff.content.decode()


def test_item_9_raises_one_flag_and_is_not_counted_as_the_patient_asking(measures_on, client_as):
    from tether.crisis.selectors import crisis_pathway_use_count
    from tether.flags.services import flags_sweep

    cast = measures_on
    client = client_as(cast.patient)
    draft = _phq9_at_item_9(client, cast)
    client.post(_q(draft, 9), {"answer": "2"})
    flags_sweep()
    safety = Flag.objects.filter(kind=Flag.Kind.SAFETY)
    assert list(safety.values_list("reason", flat=True)) == ["phq9_item9"]
    assert crisis_pathway_use_count(patient_id=cast.patient.patient.pk) == 0
