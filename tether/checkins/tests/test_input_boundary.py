"""What a patient types into a check-in reaches the care team as typed, and only the
instrument's own answer codes are ever stored (issue 12, item 5)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tether.checkins import engine
from tether.checkins.models import Answer, ProgramInstrument, Response

DEFINITIONS = {d.code: d for d, _data in engine.shipped()}


def _start(client: Any, cast: Any, code: str) -> Response:
    schedule = ProgramInstrument.objects.get(program=cast.iop, instrument_code=code)
    assert client.post(reverse("checkins:start", args=[schedule.pk])).status_code == 302
    return Response.objects.get(patient=cast.patient.patient, instrument__code=code)


def _q(draft: Response, position: int) -> str:
    return reverse("checkins:question", kwargs={"key": draft.key, "position": position})


def test_a_1000_character_note_with_line_breaks_sent_as_crlf_is_kept(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "daily")
    client.post(_q(draft, 1), {"answer": "5"})
    client.post(_q(draft, 2), {"answer": "2"})
    lines = ["x" * 99] * 10  # 10 lines of 99 characters + 9 line breaks = 999 on the page
    typed = "\n".join(lines) + "y"  # exactly 1,000 characters as the page counts them
    on_the_wire = typed.replace("\n", "\r\n")  # what a browser sends: 1,009 characters
    assert len(typed) == 1000 and len(on_the_wire) > 1000
    done = client.post(_q(draft, 3), {"answer": on_the_wire})
    assert done.status_code == 302
    assert Answer.objects.get(response=draft, item_code="note").text == typed


def test_a_note_that_is_too_long_comes_back_in_the_box_with_a_message(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "daily")
    typed = "Today was long. " * 70  # 1,120 characters
    page = client.post(_q(draft, 3), {"answer": typed})
    assert page.status_code == 400
    body = page.content.decode()
    assert "Please keep your answer to 1000 characters or fewer." in body
    assert typed.strip() in body  # nothing the patient typed is lost
    assert not Answer.objects.filter(response=draft, item_code="note").exists()


def test_control_characters_never_reach_the_stored_note(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "daily")
    client.post(_q(draft, 3), {"answer": "Slept\x00 badly\x1b[31m,\ttired\x7f"})
    text = Answer.objects.get(response=draft, item_code="note").text
    assert text == "Slept badly[31m,\ttired"


@pytest.mark.parametrize(
    "forged", ["+1", "0_3", "1_0", " 1", "1 ", "01", "\uff11", "\u0661", "\u06f1", "1.0", "-0"]
)
def test_only_the_exact_answer_codes_are_accepted(measures_on, client_as, forged):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "phq9")
    page = client.post(_q(draft, 1), {"answer": forged})
    assert page.status_code == 400
    assert "That answer was not one of the choices." in page.content.decode()
    assert not Answer.objects.filter(response=draft).exists()


def test_the_engine_refuses_look_alike_numbers():
    mood = DEFINITIONS["daily"].item("mood")  # a 0-10 scale
    for forged in ("+1", "0_3", "1_0", "\uff11", "\u0661", " 3", "3\n", 3, None):
        with pytest.raises(engine.InvalidAnswer):
            mood.clean(forged)
    assert mood.clean("10") == 10
