"""A Spanish-reading patient: the daily check-in in Spanish; a validated measure with
no published Spanish in the reference stays in English with a note; every response
records the language its questions were shown in, and the clinician sees it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tether.accounts.models import User
from tether.checkins import languages
from tether.checkins.models import ProgramInstrument, Response


def _spanish(client_as: Any, cast: Any) -> Any:
    User.objects.filter(pk=cast.patient.pk).update(language="es")
    cast.patient.refresh_from_db()
    return client_as(cast.patient)


def _start(client: Any, cast: Any, code: str) -> Response:
    schedule = ProgramInstrument.objects.get(program=cast.iop, instrument_code=code)
    client.post(reverse("checkins:start", args=[schedule.pk]))
    return Response.objects.get(patient=cast.patient.patient, instrument__code=code)


def _q(draft: Response, position: int) -> str:
    return reverse("checkins:question", kwargs={"key": draft.key, "position": position})


def test_it_asks_the_daily_check_in_in_spanish_and_records_it(measures_on, client_as):
    cast = measures_on
    client = _spanish(client_as, cast)
    draft = _start(client, cast, "daily")
    page = client.get(_q(draft, 1)).content.decode()
    assert "¿Cómo está su ánimo hoy?" in page
    assert "How is your mood today?" not in page
    assert "0 = Muy bajo" in page
    sleep = client.get(_q(draft, 2)).content.decode()
    assert "¿Cómo durmió anoche?" in sleep and ">No muy bien<" in sleep
    client.post(_q(draft, 1), {"answer": "6"})
    client.post(_q(draft, 2), {"answer": "2"})
    client.post(_q(draft, 3), {"answer": "Bien"})
    draft.refresh_from_db()
    assert (draft.status, draft.language) == ("complete", "es")


def test_it_keeps_the_phq9_in_english_with_a_note_until_its_published_spanish_is_in(
    measures_on, client_as
):
    assert "phq9" not in languages.PUBLISHED_SPANISH  # blocked: docs/I18N.md
    cast = measures_on
    client = _spanish(client_as, cast)
    draft = _start(client, cast, "phq9")
    page = client.get(_q(draft, 1)).content.decode()
    assert "Little interest or pleasure in doing things" in page  # the published wording
    assert 'lang="en"' in page  # read out in English by a screen reader
    assert "Tether todavía no tiene la versión oficial en español" in page
    for position, value in enumerate([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], start=1):
        client.post(_q(draft, position), {"answer": str(value)})
    draft.refresh_from_db()
    assert (draft.status, draft.total, draft.language) == ("complete", 2, "en")


def test_an_english_reader_sees_no_note(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    draft = _start(client, cast, "phq9")
    page = client.get(_q(draft, 1)).content.decode()
    assert "official Spanish version" not in page


def test_the_clinician_sees_the_language_a_response_was_answered_in(measures_on, client_as):
    cast = measures_on
    client = _spanish(client_as, cast)
    draft = _start(client, cast, "daily")
    for position, value in ((1, "6"), (2, "2"), (3, "")):
        client.post(_q(draft, position), {"answer": value})
    staff = client_as(cast.assigned_clinician).get(
        reverse("checkins:staff_measures", args=[cast.patient.patient.pk])
    )
    assert "answered in Spanish" in staff.content.decode()


def test_it_decides_the_language_per_instrument():
    assert languages.shown_in(instrument_code="daily", language="es-mx") == "es"
    assert languages.shown_in(instrument_code="gad7", language="es") == "en"
    assert languages.is_blocked(instrument_code="phq2", language="es")
    assert not languages.is_blocked(instrument_code="phq2", language="en-us")
