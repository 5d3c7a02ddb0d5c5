"""The Jinja2 environment for the few row templates that long lists render (docs/ARCHITECTURE.md,
"Shape" and lib/).

The pages stay Django templates. Rendering a list's rows (or a chart's year of dots) is
where Django's engine spends a page's time at a program's size: a caseload board's 60 rows resolved ~2,300 variables,
10.9 ms of the page against 5.0 ms for the same rows in Jinja2 (docs/BENCHMARKS.md,
"Pages, eighth pass"). A page includes such rows with ``{% rows "…" … %}``
(tether/staff/templatetags/rows.py).

Numbers print as Python writes them, never localized: an SVG chart's coordinates stay
"30.5" in Spanish (Django's templates wrote "30,5", which SVG does not read).

What a row template may hold: markup and the values it is given. No words of its own:
every word it shows comes translated from the page (``{% translate … as … %}``) or from
Python (``gettext``), where ``makemessages`` finds it (test_translation_ready checks the
row templates too). Autoescaped, as Django's templates are (the backend's default), and
strict: a name the row template misspells fails the page's tests instead of printing
nothing.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import get_language, ngettext
from jinja2 import Environment, StrictUndefined


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def local_date(value: dt.datetime | dt.date, fmt: str) -> str:
    """As Django's ``|date:fmt``: in the active time zone (the program's) and language."""
    return _formatted(value, fmt, "date", timezone.get_current_timezone_name(), get_language())


def local_time(value: dt.datetime, fmt: str) -> str:
    """As Django's ``|time:fmt``."""
    return _formatted(value, fmt, "time", timezone.get_current_timezone_name(), get_language())


# A list's rows repeat the same moments (a group's next session is every member's), and
# formatting one is ~50 µs: each (moment, format, zone, language) is formatted once.
@lru_cache(maxsize=4096)
def _formatted(
    value: dt.datetime | dt.date, fmt: str, kind: str, zone: str, language: str | None
) -> str:
    if isinstance(value, dt.datetime):
        value = _local(value)
    if kind == "time" and isinstance(value, dt.datetime):
        return formats.time_format(value, fmt)
    return formats.date_format(value, fmt)


# ``timesince``'s units, with Django's own message ids (django/utils/timesince.py), so
# Django's catalogs translate them as they do for the ``timesince`` filter.
_UNITS = {
    "year": ("%(num)d year", "%(num)d years"),
    "month": ("%(num)d month", "%(num)d months"),
    "week": ("%(num)d week", "%(num)d weeks"),
    "day": ("%(num)d day", "%(num)d days"),
    "hour": ("%(num)d hour", "%(num)d hours"),
    "minute": ("%(num)d minute", "%(num)d minutes"),
}


# Each plural is looked up in every app's catalog in turn (~20 µs), and a board's 60 rows
# show two durations of up to two units each: ~190 look-ups, 3.7 ms of the page. The
# numbers are few (0-59): each (unit, number, language) is translated once per process.
@lru_cache(maxsize=2048)
def _unit(unit: str, number: int, language: str | None) -> str:
    singular, plural = _UNITS[unit]
    return ngettext(singular, plural, number) % {"num": number}


class _Unit:
    """A ``timesince`` time string (``% {"num": n}``) in the active language."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __mod__(self, values: dict[str, int]) -> str:
        return _unit(self.name, values["num"], get_language())


_TIME_STRINGS = {name: _Unit(name) for name in _UNITS}


def since(value: dt.datetime | dt.date) -> str:
    """As Django's ``|timesince``: "3 days, 4 hours", in the active language."""
    return timesince(value, time_strings=_TIME_STRINGS)  # type: ignore[arg-type]


@receiver(setting_changed)
def _forget_translations(*, setting: str, **kwargs: Any) -> None:
    """A test that changes the languages or their catalogs gets them afresh."""
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "USE_TZ", "TIME_ZONE"}:
        _unit.cache_clear()
        _formatted.cache_clear()


def environment(**options: Any) -> Environment:
    options["undefined"] = StrictUndefined
    env = Environment(**options)  # noqa: S701 - autoescape comes on from Django's backend
    env.filters.update(timesince=since, date=local_date, time=local_time)
    return env
