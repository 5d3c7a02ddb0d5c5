"""The check-in flow without JavaScript: start from home, one question per screen,
drafts saved as the patient goes, one response however often it is sent."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tether.checkins.models import Answer, ProgramInstrument, Response
from tether.flags.models import Flag

HOME = reverse("portal:home")


def _schedule(cast: Any, code: str, program: Any = None) -> ProgramInstrument:
    return ProgramInstrument.objects.get(program=program or cast.iop, instrument_code=code)


def _start(client: Any, cast: Any, code: str) -> Response:
    response = client.post(reverse("checkins:start", args=[_schedule(cast, code).pk]))
    assert response.status_code == 302
    return Response.objects.get(patient=cast.patient.patient, instrument__code=code)


def _q(draft: Response, position: int) -> str:
    return reverse("checkins:question", kwargs={"key": draft.key, "position": position})


def test_it_shows_what_is_due_in_plain_words_on_home(measures_on, client_as, book):
    cast = measures_on
    book(cast.patient, hours=30, title="Evening group")
    body = client_as(cast.patient).get(HOME).content.decode()
    assert "How are you today?" in body
    assert "Takes under a minute." in body
    assert "Your weekly questionnaire (PHQ-9)" in body
    assert re.search(r"A short questionnaire before \w+day's Evening group", body)


def test_it_does_not_ask_for_the_pre_session_measure_more_than_72_hours_ahead(
    measures_on, client_as, book
):
    book(measures_on.patient, hours=80)
    body = client_as(measures_on.patient).get(HOME).content.decode()
    assert "A short questionnaire before" not in body


def test_it_walks_through_the_daily_check_in_and_records_it(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "daily")
    page = client.get(_q(draft, 1))
    assert "How is your mood today?" in page.content.decode()
    assert "1 of 3" in page.content.decode()  # no craving question outside substance use
    assert client.post(_q(draft, 1), {"answer": "7"})["Location"] == _q(draft, 2)
    assert client.post(_q(draft, 2), {"answer": "2"})["Location"] == _q(draft, 3)
    done = client.post(_q(draft, 3), {"answer": "Group helped today."})
    assert done["Location"] == reverse("checkins:done", kwargs={"key": draft.key})
    draft.refresh_from_db()
    assert draft.status == Response.Status.COMPLETE
    assert Answer.objects.get(response=draft, item_code="note").text == "Group helped today."
    # Done for today: home no longer asks.
    assert "How are you today?" not in client.get(HOME).content.decode()
    # The care team reads the note beside the mood it came with.
    staff_page = client_as(cast.assigned_clinician).get(
        reverse("checkins:staff_measures", args=[cast.patient.patient.pk])
    )
    assert "Group helped today." in staff_page.content.decode()


def test_it_resumes_where_the_patient_left_off(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "phq9")
    for position in (1, 2, 3):
        client.post(_q(draft, position), {"answer": "1"})
    # Back on home, the same questionnaire is "started"; starting again resumes at 4.
    assert "Pick up where you left off" in client.get(HOME).content.decode()
    again = client.post(reverse("checkins:start", args=[_schedule(cast, "phq9").pk]))
    assert again["Location"] == reverse("checkins:resume", kwargs={"key": draft.key})
    assert client.get(again["Location"])["Location"] == _q(draft, 4)
    # Back shows the saved answer chosen.
    assert "(your answer)" in client.get(_q(draft, 2)).content.decode()
    assert Response.objects.filter(patient=cast.patient.patient).count() == 1


def test_it_records_one_response_however_often_it_is_sent(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "daily")
    client.post(_q(draft, 1), {"answer": "5"})
    client.post(_q(draft, 2), {"answer": "1"})
    finish = reverse("checkins:finish", kwargs={"key": draft.key})
    first = client.post(finish)
    second = client.post(finish)
    third = client.post(_q(draft, 3), {"answer": "again"})  # a retried last answer
    assert first.status_code == second.status_code == third.status_code == 302
    assert Response.objects.filter(patient=cast.patient.patient).count() == 1
    draft.refresh_from_db()
    assert draft.status == Response.Status.COMPLETE
    assert not Answer.objects.filter(response=draft, item_code="note").exists()
    page = client.get(reverse("checkins:done", kwargs={"key": draft.key}), follow=True)
    assert "nothing was changed" in page.content.decode()


def test_it_scores_a_complete_phq9(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "phq9")
    for position, value in enumerate([2, 2, 2, 2, 2, 2, 1, 1, 0], start=1):
        client.post(_q(draft, position), {"answer": str(value)})
    client.post(_q(draft, 10), {"answer": "1"})
    draft.refresh_from_db()
    assert (draft.status, draft.total, draft.band) == ("complete", 14, "moderate")
    assert not Flag.objects.exists()


def test_it_stores_a_measure_sent_with_gaps_as_incomplete(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "phq9")
    for position in range(1, 9):  # item 9 left out
        client.post(_q(draft, position), {"answer": "3"})
    finish = reverse("checkins:finish", kwargs={"key": draft.key})
    page = client.get(finish).content.decode()
    assert "One question has no answer yet" in page
    client.post(finish, {"send_as_is": "1"})
    draft.refresh_from_db()
    assert draft.status == Response.Status.INCOMPLETE
    assert draft.total is None and draft.band == ""


def test_it_refuses_a_forged_answer_and_keeps_the_others(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "phq9")
    client.post(_q(draft, 1), {"answer": "2"})
    for forged in ("4", "-1", "Nearly every day", ""):
        page = client.post(_q(draft, 2), {"answer": forged})
        assert page.status_code == 400
        assert "not one of the choices" in page.content.decode()
    assert dict(Answer.objects.filter(response=draft).values_list("item_code", "value")) == {"1": 2}


def test_it_hides_another_patients_draft(measures_on, client_as):
    cast = measures_on
    draft = _start(client_as(cast.patient), cast, "phq9")
    other = client_as(cast.other_patient)
    assert other.get(_q(draft, 1)).status_code == 404
    assert other.post(_q(draft, 1), {"answer": "3"}).status_code == 404
    assert other.post(reverse("checkins:finish", kwargs={"key": draft.key})).status_code == 404
    assert not Answer.objects.filter(response=draft).exists()
    # Her own draft list is untouched too: nothing was created on her side.
    assert not Response.objects.filter(patient=cast.other_patient.patient).exists()


def test_it_closes_a_stale_form_and_keeps_what_was_answered(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "daily")
    client.post(_q(draft, 1), {"answer": "6"})
    Response.objects.filter(pk=draft.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    page = client.post(_q(draft, 2), {"answer": "3"}, follow=True)
    assert "This questionnaire has closed" in page.content.decode()
    draft.refresh_from_db()
    assert draft.status == Response.Status.INCOMPLETE
    assert list(Answer.objects.filter(response=draft).values_list("item_code", "value")) == [
        ("mood", 6)
    ]


def test_it_answers_fetch_with_the_next_address(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "daily")
    ok = client.post(_q(draft, 1), {"answer": "4"}, headers={"X-Tether-Fetch": "1"})
    assert ok.json() == {"next": _q(draft, 2)}
    bad = client.post(_q(draft, 2), {"answer": "9"}, headers={"X-Tether-Fetch": "1"})
    assert bad.status_code == 400 and "choices" in bad.json()["error"]


def test_it_asks_about_craving_in_a_substance_use_program(measures_on, client_as):
    cast = measures_on
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    client = client_as(cast.patient)
    draft = _start(client, cast, "daily")
    client.post(_q(draft, 1), {"answer": "5"})
    client.post(_q(draft, 2), {"answer": "2"})
    assert "How strong were your cravings today?" in client.get(_q(draft, 3)).content.decode()


def test_it_refuses_to_start_what_is_not_due(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    # GAD-7 is due only before a session, and none is booked.
    page = client.post(reverse("checkins:start", args=[_schedule(cast, "gad7").pk]), follow=True)
    assert "not open right now" in page.content.decode()
    # Another program's schedule is not hers either.
    page = client.post(
        reverse("checkins:start", args=[_schedule(cast, "daily", cast.adolescent_iop).pk]),
        follow=True,
    )
    assert "not open right now" in page.content.decode()
    assert not Response.objects.exists()


def test_it_checks_access(measures_on, client_as):
    cast = measures_on
    url = reverse("checkins:start", args=[_schedule(cast, "daily").pk])
    for persona in ("assigned_clinician", "parent", "front_desk"):
        assert client_as(getattr(cast, persona)).post(url).status_code == 404
    assert not Response.objects.exists()
