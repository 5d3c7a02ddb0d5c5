"""When the demo clinic is open: weekdays, except the holidays it closes for."""

from __future__ import annotations

import datetime as dt
from functools import cache


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


@cache
def closed_days(year: int) -> frozenset[dt.date]:
    """The six holidays most US outpatient programs close for (observed dates)."""
    monday, thursday = 0, 3
    return frozenset(
        {
            _observed(dt.date(year, 1, 1)),
            _last_weekday(year, 5, monday),  # Memorial Day
            _observed(dt.date(year, 7, 4)),
            _nth_weekday(year, 9, monday, 1),  # Labor Day
            _nth_weekday(year, 11, thursday, 4),  # Thanksgiving
            _observed(dt.date(year, 12, 25)),
        }
    )


def is_open(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in closed_days(day.year)


def open_on_or_before(day: dt.date) -> dt.date:
    while not is_open(day):
        day -= dt.timedelta(days=1)
    return day


def open_on_or_after(day: dt.date) -> dt.date:
    while not is_open(day):
        day += dt.timedelta(days=1)
    return day
