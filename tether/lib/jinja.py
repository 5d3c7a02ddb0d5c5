"""The Jinja2 environment for the few row templates that long lists render (docs/ARCHITECTURE.md,
"Shape" and lib/).

The pages stay Django templates. Rendering a list's rows is where Django's engine spends
a page's time at a program's size: a caseload board's 60 rows resolved ~2,300 variables,
10.9 ms of the page against 5.0 ms for the same rows in Jinja2 (docs/BENCHMARKS.md,
"Pages, eighth pass"). A page includes such rows with ``{% rows "…" … %}``
(tether/staff/templatetags/rows.py).

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

from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import get_language
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


def environment(**options: Any) -> Environment:
    options["undefined"] = StrictUndefined
    env = Environment(**options)  # noqa: S701 - autoescape comes on from Django's backend
    env.filters.update(timesince=timesince, date=local_date, time=local_time)
    return env
