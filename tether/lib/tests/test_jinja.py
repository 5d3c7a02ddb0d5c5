"""The row templates' environment (tether/lib/jinja.py): Django's formats in the
active time zone and language, autoescaped, strict about misspelt names."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import engines
from django.utils import timezone, translation
from jinja2.exceptions import UndefinedError

MOMENT = dt.datetime(2026, 12, 7, 18, 30, tzinfo=dt.UTC)  # a Monday


def _render(source: str, **context: object) -> str:
    return engines["jinja2"].from_string(source).render(context)


def test_a_moment_is_shown_in_the_programs_time_zone_each_time_it_changes():
    source = '{{ at|date("D M j, g:i A") }} / {{ at|time("g:i A") }}'
    with timezone.override("America/New_York"):
        assert _render(source, at=MOMENT) == "Mon Dec 7, 1:30 PM / 1:30 PM"
    with timezone.override("America/Los_Angeles"):
        assert _render(source, at=MOMENT) == "Mon Dec 7, 10:30 AM / 10:30 AM"
    with timezone.override("America/New_York"):  # remembered per zone, not per moment
        assert _render(source, at=MOMENT) == "Mon Dec 7, 1:30 PM / 1:30 PM"


def test_a_moment_is_shown_in_the_active_language():
    with timezone.override("America/New_York"):
        with translation.override("es"):
            spanish = _render('{{ at|date("l") }}', at=MOMENT)
        english = _render('{{ at|date("l") }}', at=MOMENT)
    assert (english, spanish) == ("Monday", "lunes")


def test_it_escapes_what_it_is_given():
    assert _render("{{ name }}", name="<b>Kim</b>") == "&lt;b&gt;Kim&lt;/b&gt;"


def test_a_misspelt_name_fails_instead_of_printing_nothing():
    with pytest.raises(UndefinedError):
        _render("{{ row.nmae }}", row={"name": "Kim"})


@pytest.mark.parametrize(
    "ago",
    [
        dt.timedelta(0),
        dt.timedelta(minutes=1),
        dt.timedelta(hours=1, minutes=1),
        dt.timedelta(days=1, hours=5),
        dt.timedelta(days=17),
        dt.timedelta(days=400),
        -dt.timedelta(hours=3),  # a moment to come: "0 minutes", as Django says
    ],
)
def test_how_long_ago_reads_as_djangos_timesince_in_each_language(ago):
    from django.template.defaultfilters import timesince_filter

    moment = timezone.now() - ago
    for language in ("en", "es"):
        with translation.override(language):
            assert _render("{{ at|timesince }}", at=moment) == timesince_filter(moment)
    with translation.override("es"):
        spanish = _render("{{ at|timesince }}", at=timezone.now() - dt.timedelta(days=2))
    assert spanish == "2\xa0días"
