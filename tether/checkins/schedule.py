"""When each instrument is due: one *window* per day, ISO week, or upcoming session,
in the program's time zone. A response belongs to exactly one window."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from tether.checkins.models import ProgramInstrument
from tether.scheduling.models import Appointment

BEFORE_SESSION = dt.timedelta(hours=72)


@dataclass(frozen=True)
class Window:
    key: str
    closes_at: dt.datetime
    appointment: Appointment | None = None


def _local_midnight(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def window_for(
    schedule: str,
    *,
    now: dt.datetime,
    tz: zoneinfo.ZoneInfo,
    next_appointment: Appointment | None,
) -> Window | None:
    today = now.astimezone(tz).date()
    if schedule == ProgramInstrument.Schedule.DAILY:
        return Window(f"daily:{today.isoformat()}", _local_midnight(today + dt.timedelta(1), tz))
    if schedule == ProgramInstrument.Schedule.WEEKLY:
        year, week, weekday = today.isocalendar()
        next_monday = today + dt.timedelta(days=8 - weekday)
        return Window(f"weekly:{year}-W{week:02d}", _local_midnight(next_monday, tz))
    if schedule == ProgramInstrument.Schedule.BEFORE_SESSION:
        if next_appointment is None or not (
            now < next_appointment.starts_at <= now + BEFORE_SESSION
        ):
            return None
        return Window(
            f"session:{next_appointment.pk}", next_appointment.starts_at, next_appointment
        )
    return None
