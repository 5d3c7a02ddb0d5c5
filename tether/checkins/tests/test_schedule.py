"""Windows are cut in the program's time zone: "today" is the clinic's today."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from tether.checkins.schedule import window_for
from tether.scheduling.models import Appointment

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


def test_it_keeps_a_late_evening_check_in_on_the_patients_own_day():
    now = dt.datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 22:30 on the 26th in New York
    window = window_for("daily", now=now, tz=NEW_YORK, next_appointment=None)
    assert window is not None and window.key == "daily:2026-11-26"
    assert window.closes_at == dt.datetime(2026, 11, 27, 0, 0, tzinfo=NEW_YORK)


def test_it_cuts_weeks_at_monday_midnight_local_time():
    sunday_night = dt.datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # Sunday 23:00 in New York
    window = window_for("weekly", now=sunday_night, tz=NEW_YORK, next_appointment=None)
    assert window is not None and window.key == "weekly:2026-W48"
    assert window.closes_at == dt.datetime(2026, 11, 30, 0, 0, tzinfo=NEW_YORK)


def test_it_opens_72_hours_before_a_session_and_closes_at_its_start():
    starts = dt.datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    session = Appointment(pk=42, starts_at=starts)
    early = starts - dt.timedelta(hours=73)
    assert window_for("before_session", now=early, tz=NEW_YORK, next_appointment=session) is None
    window = window_for(
        "before_session",
        now=starts - dt.timedelta(hours=71),
        tz=NEW_YORK,
        next_appointment=session,
    )
    assert window is not None and window.key == "session:42" and window.closes_at == starts
    assert window_for("before_session", now=starts, tz=NEW_YORK, next_appointment=session) is None


def test_the_home_page_says_which_questionnaire_first_when_several_are_due(
    measures_on, book, client_as
):
    from django.urls import reverse

    book(measures_on.patient, hours=20)  # GAD-7 before a session tomorrow
    page = client_as(measures_on.patient).get(reverse("portal:home")).content.decode()
    assert "3 to do. Start with the first: it closes soonest." in page
    assert page.count("Open until") == 3
