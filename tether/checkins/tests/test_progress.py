"""Trends for the patient (/me/progress/) and for staff, with query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tether.checkins.models import Answer, Instrument, Response
from tether.checkins.sync import sync_instruments
from tether.privacy.gate import record_category_for
from tether.privacy.policy import Category

PROGRESS = reverse("checkins:progress")
HOME = reverse("portal:home")


def _band(instrument: Instrument, total: int) -> str:
    band = instrument.spec.band_for(total)
    return band.code if band else ""


def add_phq9(
    patient: Any, totals: list[int], *, start_days_ago: int = 50, status: str = "complete"
) -> None:
    """Weekly complete PHQ-9s with these totals (items filled to match)."""
    sync_instruments()
    instrument = Instrument.objects.get(code="phq9", is_current=True)
    episode = patient.episodes.get()
    now = timezone.now()
    for index, total in enumerate(totals):
        when = now - dt.timedelta(days=start_days_ago - 7 * index)
        response = Response.objects.create(
            organization=patient.organization,
            patient=patient,
            episode=episode,
            record_category=record_category_for(episode, Category.SELF_REPORT),
            instrument=instrument,
            window=f"test:{index}:{when.isoformat()}",
            status=status,
            started_at=when,
            expires_at=when + dt.timedelta(days=7),
            submitted_at=when,
            total=total if status == "complete" else None,
            band=_band(instrument, total) if status == "complete" else "",
        )
        values, left = [], total
        for _ in range(9):
            value = min(3, left)
            values.append(value)
            left -= value
        Answer.objects.bulk_create(
            Answer(
                organization=patient.organization,
                response=response,
                item_code=str(n),
                value=v,
                answered_at=when,
            )
            for n, v in enumerate(values, start=1)
        )


def test_it_tells_the_patient_about_a_real_improvement(cast, client_as):
    add_phq9(cast.patient.patient, [18, 15, 13, 11])
    page = client_as(cast.patient).get(PROGRESS).content.decode()
    assert "Your PHQ-9 went from 18 to 11 since you started — that is a real improvement." in page
    assert 'role="img"' in page and "<title id=" in page and "<desc id=" in page
    assert "Show as a table" in page


def test_it_is_gentle_about_getting_worse(cast, client_as):
    add_phq9(cast.patient.patient, [8, 10, 15])
    page = client_as(cast.patient).get(PROGRESS).content.decode()
    assert "Your scores have been higher lately." in page
    assert "worse" not in page.lower()


def test_it_shows_staff_baseline_reliable_change_and_items(cast, client_as):
    patient = cast.patient.patient
    add_phq9(patient, [18, 9])
    add_phq9(patient, [20], start_days_ago=3, status="incomplete")
    url = reverse("checkins:staff_measures", args=[patient.pk])
    page = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "Reliable improvement" in page and "(-9)" in page
    assert "reliable recovery" in page
    assert "1 response not finished (not scored)" in page
    assert "Item 9" in page


def test_it_checks_access(cast, client_as):
    patient = cast.patient.patient
    url = reverse("checkins:staff_measures", args=[patient.pk])
    assert client_as(cast.assigned_clinician).get(url).status_code == 200
    for persona in ("front_desk", "unassigned_clinician", "other_org_clinician", "patient"):
        assert client_as(getattr(cast, persona)).get(url).status_code == 404
    assert client_as(cast.patient).get(PROGRESS).status_code == 200
    for persona in ("parent", "assigned_clinician"):
        assert client_as(getattr(cast, persona)).get(PROGRESS).status_code == 404


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_it_keeps_page_queries_constant_with_more_history(measures_on, client_as):
    cast = measures_on
    staff_url = reverse("checkins:staff_measures", args=[cast.patient.patient.pk])
    detail_url = reverse("staff:patient_detail", args=[cast.patient.patient.pk])
    add_phq9(cast.patient.patient, [18])
    client = client_as(cast.patient)
    _count(client, HOME), _count(client, PROGRESS)  # warm up (first audit row, session)
    small = (_count(client, HOME), _count(client, PROGRESS))
    add_phq9(cast.patient.patient, [16, 14, 12, 11, 10, 9, 9, 8], start_days_ago=45)
    large = (_count(client, HOME), _count(client, PROGRESS))
    assert small == large
    print(f"\npatient home page: {large[0]} queries; progress page: {large[1]} queries")
    staff = client_as(cast.assigned_clinician)
    assert _count(staff, staff_url) == _count(staff, staff_url)
    before = _count(staff, detail_url)
    add_phq9(cast.patient.patient, [7, 7, 6], start_days_ago=5)
    assert _count(staff, detail_url) == before


def test_a_mental_health_patient_sees_no_craving_chart(cast, client_as):
    from tether.flags.testing import add_response

    now = timezone.now()
    for day in (3, 2, 1):
        add_response(
            cast.patient.patient,
            "daily",
            now - dt.timedelta(days=day),
            items={"mood": 6, "craving": 4},
        )
    page = client_as(cast.patient).get(PROGRESS).content.decode()
    assert "How is your mood today?" in page or "mood" in page.lower()
    assert "craving" not in page.lower()
    staff = reverse("checkins:staff_measures", args=[cast.patient.patient.pk])
    assert "craving" not in client_as(cast.assigned_clinician).get(staff).content.decode().lower()
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    assert "craving" in client_as(cast.patient).get(PROGRESS).content.decode().lower()


def test_it_shows_ninety_days_with_earlier_and_later(cast, client_as):
    """The page does not grow with the history: one period at a time (issue #20)."""
    patient = cast.patient.patient
    episode = patient.episodes.get()
    episode.admitted_on = timezone.localdate() - dt.timedelta(days=200)
    episode.save(update_fields=["admitted_on"])
    add_phq9(patient, [21], start_days_ago=150)
    add_phq9(patient, [12, 10], start_days_ago=20)
    client = client_as(cast.patient)
    page = client.get(PROGRESS).content.decode()
    assert "Earlier" in page and ">Later<" not in page
    # Measured from the episode's first score, which is before the period shown.
    assert "Your PHQ-9 went from 21 to 10 since you started" in page
    assert "<td>21</td>" not in page
    earlier = (timezone.localdate() - dt.timedelta(days=90)).isoformat()
    older = client.get(f"{PROGRESS}?until={earlier}").content.decode()
    assert "<td>21</td>" in older and "<td>10</td>" not in older
    assert "Later" in older


def _numbers_of(page: str, attribute: str) -> list[str]:
    import re

    return re.findall(rf'\s{attribute}="([^"]*)"', page)


def test_its_chart_draws_in_spanish_too(cast, client_as):
    """SVG reads "30.5", not the Spanish "30,5": a Spanish-reading patient's chart has
    its dots, bands and labels where an English reader's has them."""
    from tether.accounts.models import User

    add_phq9(cast.patient.patient, [18, 15, 13, 11])
    english = client_as(cast.patient).get(PROGRESS).content.decode()
    User.objects.filter(pk=cast.patient.pk).update(language="es")
    cast.patient.refresh_from_db()
    spanish = client_as(cast.patient).get(PROGRESS).content.decode()
    assert "Mi progreso" in spanish or 'lang="es"' in spanish
    for attribute in ("cx", "cy", "x", "y", "width", "height"):
        found = _numbers_of(spanish, attribute)
        assert found == _numbers_of(english, attribute)
        assert found and all("," not in value for value in found), attribute
    assert any("." in value for value in _numbers_of(spanish, "cy"))
    # Its words are Spanish too: the card's sentence, the chart's title and description.
    assert "Su PHQ-9 pasó de 18 a 11 desde que empezó: es una mejora real." in spanish
    assert "PHQ-9 a lo largo del tiempo" in spanish
    assert "4 resultados del " in spanish
    assert "that is a real improvement" not in spanish
