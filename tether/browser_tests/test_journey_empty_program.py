"""A program's first weeks from an empty database, ONE chained journey through the app.

The database holds one organization and its first program admin, nothing else (the
questionnaires' reference definitions are loaded, as a migration would). Then, only
through the pages:

1. the admin creates the program (crisis line, time zone), chooses its questionnaires
   and office hours, turns on the missed-sessions flag rule, invites a clinician and a
   front-desk person by e-mail, puts the clinician on the on-call rota and lays out a
   recurring evening group run by her;
2. the front desk opens the e-mailed links, registers a patient at PHP level and hands
   over a QR invitation; the patient signs up on a 360-px phone through that page;
   the front desk imports next month's individual sessions from an ``.ics`` file and
   registers and books the rest of the group (12 people);
3. the clinician opens her links on a 360-px phone and takes attendance for the 12
   (taps and seconds printed); at the next meeting a second unexcused absence raises
   the missed-sessions flag at once and it is in her flag queue;
4. she invites the patient's mother with a QR code (attendance only); the mother signs
   up and sees the attendance she may see;
5. she steps the patient down from PHP to IOP and later discharges her as "stopped
   attending"; the patient sees her aftercare plan.

axe-core runs on every page. One shortcut, said where it is taken: "the next day"
is reached by moving the group's meetings back a day in the database, because a
browser test cannot wait a day and the services (rightly) refuse to book in the past.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import User
from tether.accounts.tests.helpers import current_code
from tether.checkins.sync import sync_instruments
from tether.crisis.models import Level
from tether.crisis.services import recipients_at
from tether.flags.models import Flag, FlagRule
from tether.organizations.models import Organization, Program, StaffMember
from tether.patients.models import Episode, LevelOfCareChange, Patient, Proxy
from tether.scheduling.models import Appointment, Attendance, GroupSeries
from tether.testing.browser import DESKTOP, PHONE, Browser
from tether.testing.cast import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMMEDIATE = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}
CLINICIAN_PASSWORD = "a long evening walk by the river"
DESK_PASSWORD = "the kettle is on at the front desk"
PATIENT_PASSWORD = "sunflowers on the kitchen table"
PARENT_PASSWORD = "river stones and quiet mornings"


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _links(message: Any) -> tuple[str, str]:
    password_link, setup_link = re.findall(r"https?://\S+", str(message.body))
    return _path(password_link), _path(setup_link)


def _accept_staff_invitation(browser: Browser, message: Any, email: str, password: str) -> User:
    """The e-mailed links: choose a password, then turn on the authenticator app."""
    page = browser.page
    password_link, setup_link = _links(message)
    browser.goto(password_link)
    page.get_by_label("New password").fill(password)
    page.get_by_label("Type the same password again").fill(password)
    browser.click(page.get_by_role("button", name="Save my password"))
    browser.goto(setup_link)
    user = User.objects.get(email=email)
    page.get_by_label("6-digit code from your app").fill(
        current_code(TOTPDevice.objects.get(user=user, confirmed=False))
    )
    browser.click(page.get_by_role("button", name="Turn on two-step sign-in"))
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return user


def _invitation_path(page: Any) -> str:
    found = re.search(r"/accounts/invite/[^/]+/", page.locator(".invite-link").inner_text())
    assert found is not None
    return found.group(0)


def _ics(program: Program, day: dt.date, hours: list[int], mrn: str, organizer: str) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Old EHR//EN"]
    for n, hour in enumerate(hours):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{n}@old-ehr.example.org",
            f"DTSTART;TZID={program.time_zone}:{day:%Y%m%d}T{hour:02d}0000",
            "DURATION:PT50M",
            "SUMMARY:Individual session",
            f"DESCRIPTION:MRN: {mrn}",
            f"ORGANIZER:mailto:{organizer}",
            "END:VEVENT",
        ]
    return "\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n"


def _take_attendance(
    browser: Browser, meeting: Appointment, marks: list[tuple[str, str]]
) -> tuple[int, float]:
    """Open the meeting's attendance on the phone, tap the marks, save. The taps and the
    seconds from the first tap to the saved page (in the browser, axe not counted);
    everyone not tapped keeps "present"."""
    page = browser.page
    browser.goto(f"/staff/schedule/sessions/{meeting.pk}/")
    browser.click(page.get_by_role("link", name="Take attendance"))
    assert page.locator(".attendance__person").count() == 12
    taps = 0
    started = time.perf_counter()
    for name, mark in marks:
        row = page.locator(".attendance__person", has=page.get_by_text(name, exact=True))
        if mark.startswith("reason:"):
            row.get_by_role("combobox").select_option(mark.removeprefix("reason:"))
            taps += 2  # open the list, choose
        else:
            row.get_by_text(mark, exact=True).tap()
            taps += 1
    with page.expect_navigation():
        page.get_by_role("button", name="Save attendance").tap()
    taps += 1
    seconds = time.perf_counter() - started
    browser.check_accessibility()
    assert page.get_by_text("Attendance saved for 12 people").is_visible()
    return taps, seconds


def test_a_program_runs_its_first_weeks_from_an_empty_database(
    chromium: Any, live_server: Any, settings: Any, tmp_path: Any
) -> None:
    # Flag rules run as soon as attendance is saved (the worker's job, done in-process).
    settings.TASKS = IMMEDIATE
    sync_instruments()  # the questionnaires' reference definitions, not clinic data
    org = Organization.objects.create(name="Lakeside Recovery", slug="lakeside")
    admin_user = make_staff(org, "ada.first", StaffMember.Role.PROGRAM_ADMIN, [], first_name="Ada")

    def new_browser(viewport: dict[str, int], *, phone: bool = False) -> Browser:
        context = chromium.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
        return Browser(page=context.new_page(), base_url=live_server.url)

    admin = new_browser(DESKTOP)
    page = admin.page
    admin.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill("ada.first")
    page.get_by_label("Password").fill(PASSWORD)
    admin.click(page.get_by_role("button", name="Sign in"))
    page.get_by_label("6-digit code from your app").fill(
        current_code(TOTPDevice.objects.get(user=admin_user))
    )
    admin.click(page.get_by_role("button", name="Continue"))

    # 1a. The program: no program yet, so set-up starts with creating one.
    admin.click(page.get_by_role("link", name="Questionnaires and on-call"))
    assert page.get_by_role("heading", name="New program").is_visible()
    page.get_by_label("Name of the program").fill("Lakeside Adult Program")
    page.get_by_label("Kind").select_option(label="Partial hospitalization (PHP)")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_label("Program crisis line (answered around the clock)").fill("12")
    admin.click(page.get_by_role("button", name="Create the program"))
    assert page.get_by_text("This is not a phone number that can be dialled.").is_visible()
    assert page.get_by_label("Name of the program").input_value() == "Lakeside Adult Program"
    page.get_by_label("Program crisis line (answered around the clock)").fill("413-555-0177")
    admin.click(page.get_by_role("button", name="Create the program"))
    assert page.get_by_text("Lakeside Adult Program is set up.").is_visible()
    program = Program.objects.get(name="Lakeside Adult Program")

    # 1b. Questionnaires and office hours.
    page.get_by_label("PHQ-9", exact=False).first.select_option("weekly")
    admin.click(page.get_by_role("button", name=re.compile("^Save PHQ-9")))
    assert page.get_by_text("Saved. Patients see the change at once.").is_visible()
    page.get_by_label("Office opens at").fill("08:30")
    page.get_by_label("Office closes at").fill("17:00")
    hours = page.locator("form", has=page.get_by_role("button", name="Save the office hours"))
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        hours.get_by_label(day, exact=True).check()
    admin.click(page.get_by_role("button", name="Save the office hours"))
    assert page.get_by_text("Office hours saved.").is_visible()
    program.refresh_from_db()
    assert program.office_opens_at == dt.time(8, 30) and program.office_days == "01234"

    # 1c. The missed-sessions rule is off by default (the combined rule replaces it,
    # issue 21); this program wants it.
    admin.goto("/staff/flags/rules/")
    admin.click(page.get_by_role("link", name="Missed sessions"))
    page.get_by_label("In use").check()
    admin.click(page.get_by_role("button", name="Save the rule"))
    assert FlagRule.objects.get(program=program, code="missed_sessions").enabled

    # 1d. A clinician and a front-desk person, invited by e-mail.
    for first_name, last_name, email, role in (
        ("Dana", "Rivers", "dana.rivers@example.org", "clinician"),
        ("Fran", "Okafor", "fran.okafor@example.org", "front_desk"),
    ):
        admin.goto("/staff/program/staff/")
        page.get_by_label("First name").fill(first_name)
        page.get_by_label("Last name").fill(last_name)
        page.get_by_label("Work e-mail").fill(email)
        page.get_by_label("Role").select_option(role)
        page.get_by_label("Lakeside Adult Program").check()
        admin.click(page.get_by_role("button", name="Send the invitation"))
        assert page.get_by_text(f"Invitation sent to {email}").is_visible()
    dana_mail, fran_mail = mail.outbox

    # 1e. The on-call rota: Dana tonight.
    admin.goto(f"/staff/program/setup/?program={program.pk}")
    now = timezone.now().astimezone(program.tzinfo).replace(second=0, microsecond=0)
    page.get_by_label("Clinician on call").select_option(label="Dana Rivers")
    page.get_by_label("From").fill((now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Until").fill((now + dt.timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"))
    admin.click(page.get_by_role("button", name="Add the shift"))
    assert page.get_by_text("The shift is on the rota.").is_visible()

    # 1f. A recurring evening group run by Dana, on two days a week; the first meeting
    # starts in 20 minutes (so attendance can be taken now), the next a day later.
    first = (timezone.now() + dt.timedelta(minutes=20)).astimezone(program.tzinfo)
    admin.click(page.get_by_role("link", name="Schedule"))
    admin.click(page.get_by_role("link", name="New recurring group"))
    page.get_by_label("Name of the group").fill("Evening process group")
    page.get_by_label("Starts at").fill(first.strftime("%H:%M"))
    page.get_by_label("Length in minutes").fill("180")
    page.get_by_label("First day").fill(first.date().isoformat())
    page.get_by_label("Last day").fill((first.date() + dt.timedelta(days=27)).isoformat())
    page.get_by_label("Facilitator").select_option(label="Dana Rivers")
    page.get_by_label("Room (optional)").fill("Room 1")
    page.get_by_label(first.strftime("%A"), exact=True).check()
    page.get_by_label((first + dt.timedelta(days=1)).strftime("%A"), exact=True).check()
    admin.click(page.get_by_role("button", name="Put the group on the schedule"))
    assert page.get_by_role("heading", name="Evening process group").is_visible()
    series = GroupSeries.objects.get(title="Evening process group")
    admin.assert_every_page_checked()

    # 2a. The front desk signs up from the e-mail, registers Alma at PHP level and hands
    # her a QR invitation.
    desk = new_browser(DESKTOP)
    page = desk.page
    _accept_staff_invitation(desk, fran_mail, "fran.okafor@example.org", DESK_PASSWORD)
    desk.goto("/staff/patients/new/")
    page.get_by_label("First name").fill("Alma")
    page.get_by_label("Last name").fill("Reyes")
    page.get_by_label("Date of birth").fill("1988-04-09")
    page.get_by_label("Record number (MRN)").fill("MRN-1001")
    page.get_by_label("Level of care").select_option("php")
    page.get_by_label("Primary therapist").select_option(label="Dana Rivers")
    desk.click(page.get_by_role("button", name="Register patient"))
    assert page.get_by_role("heading", level=1).inner_text() == "Alma Reyes"
    alma = Patient.objects.get(record_number="MRN-1001")
    desk.click(page.get_by_role("button", name="Create invite link and QR code"))
    assert page.locator(".qr svg").count() == 1
    alma_invitation = _invitation_path(page)

    # 2b. Alma signs up on her phone through the invitation page.
    patient = new_browser(PHONE, phone=True)
    patient.goto(alma_invitation)
    assert patient.page.get_by_role("heading", level=1).inner_text() == "Welcome, Alma"
    patient.page.get_by_label("New password").fill(PATIENT_PASSWORD)
    patient.page.get_by_label("Type the same password again").fill(PATIENT_PASSWORD)
    patient.click(patient.page.get_by_role("button", name="Save my password"))
    assert patient.page.url.endswith("/me/welcome/")
    patient.click(patient.page.get_by_role("button", name="Go to my home page"))
    assert patient.page.get_by_role("heading", level=1).inner_text() == "Hi Alma"

    # 2c. Next month's individual sessions, from the old system's calendar export.
    next_month = first.date() + dt.timedelta(days=35)  # after the group's last meeting
    calendar = tmp_path / "next-month.ics"
    calendar.write_text(_ics(program, next_month, [9, 10], "MRN-1001", "dana.rivers@example.org"))
    desk.goto(f"/staff/schedule/?program={program.pk}")
    desk.click(page.get_by_role("link", name="Import sessions"))
    page.get_by_label("Calendar or CSV file").set_input_files(str(calendar))
    desk.click(page.get_by_role("button", name="Preview"))
    assert page.get_by_text("Every row is right.").is_visible()
    desk.click(page.get_by_role("button", name="Import 2 sessions"))
    assert page.get_by_text("2 sessions imported.").is_visible()
    imported = Attendance.objects.filter(patient=alma, appointment__kind="individual")
    assert imported.count() == 2

    # 2d. The rest of the group registered at intake and everyone booked into it.
    for n in range(1, 12):
        desk.goto("/staff/patients/new/")
        page.get_by_label("First name").fill(f"Member{n:02d}")
        page.get_by_label("Last name").fill("Group")
        page.get_by_label("Date of birth").fill(f"1990-01-{n:02d}")
        page.get_by_label("Record number (MRN)").fill(f"MRN-{1001 + n}")
        page.get_by_label("Level of care").select_option("iop")
        page.get_by_label("Primary therapist").select_option(label="Dana Rivers")
        desk.click(page.get_by_role("button", name="Register patient"))
    assert Patient.objects.count() == 12
    desk.goto(f"/staff/schedule/groups/{series.pk}/")
    for name in ["Alma Reyes", *(f"Member{n:02d} Group" for n in range(1, 12))]:
        page.get_by_label("Add a patient of this program").select_option(label=name)
        desk.click(page.get_by_role("button", name="Add to the roster"))
        assert page.get_by_text(f"{name} is on the roster.").is_visible()
    desk.assert_every_page_checked()

    # 3a. Dana, on a 360-px phone: her e-mailed links, then the group's attendance.
    clinician = new_browser(PHONE, phone=True)
    page = clinician.page
    dana = _accept_staff_invitation(
        clinician, dana_mail, "dana.rivers@example.org", CLINICIAN_PASSWORD
    )
    assert recipients_at(Level.ON_CALL, patient=alma, program=program) == [dana]
    meetings = list(series.occurrences.order_by("starts_at")[:2])
    taps, seconds = _take_attendance(
        clinician,
        meetings[0],
        [
            ("Member01 Group", "Late"),
            ("Member02 Group", "Left early"),
            ("Member03 Group", "Excused"),
            ("Member03 Group", "reason:transport"),
            ("Alma Reyes", "Absent"),
        ],
    )
    print(f"\nPROGRAM WEEK, attendance for 12 at 360 px: {taps} taps, {seconds:.2f} s (browser)")
    statuses = dict(
        Attendance.objects.filter(appointment=meetings[0]).values_list(
            "patient__first_name", "status"
        )
    )
    assert statuses["Alma"] == "absent" and statuses["Member03"] == "excused"
    assert list(statuses.values()).count("attended") == 8
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not Flag.objects.filter(patient=alma).exists()  # one absence is not a pattern

    # 3b. The next day, ten minutes into the group (the shortcut: the group's meetings
    # move back 24 h 30 min), Alma is absent again without a word: the missed-sessions
    # flag is raised as the attendance is saved, not at the next sweep.
    a_day_later = dt.timedelta(days=1, minutes=30)
    Appointment.objects.filter(series=series).update(
        starts_at=F("starts_at") - a_day_later, ends_at=F("ends_at") - a_day_later
    )
    # (A queryset update bypasses Appointment.save: the attendances' copies too.)
    Attendance.objects.filter(appointment__series=series).update(
        starts_at=F("starts_at") - a_day_later
    )
    _take_attendance(clinician, meetings[1], [("Alma Reyes", "Absent")])
    assert Flag.objects.filter(patient=alma, reason="missed_sessions", status="open").exists()
    clinician.goto("/staff/flags/")
    alma_flags = page.locator(
        ".flag-group", has=page.get_by_role("heading", name=re.compile("^Reyes, Alma"))
    )
    assert alma_flags.get_by_role("heading", name="Missed sessions").is_visible()

    # 4. Alma agrees that her mother may see her attendance: a QR invitation.
    clinician.goto(f"/staff/patients/{alma.pk}/")
    clinician.click(page.get_by_role("link", name="Family members"))
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Reyes")
    page.get_by_label("Relationship").select_option("parent")
    page.get_by_label("Attendance").check()
    page.get_by_label("The patient agreed to these (for a teen: their assent)").check()
    clinician.click(page.get_by_role("button", name="Create the invitation"))
    assert page.locator(".qr svg").count() == 1
    parent_invitation = _invitation_path(page)

    parent = new_browser(PHONE, phone=True)
    parent.goto(parent_invitation)
    parent.page.get_by_label("New password").fill(PARENT_PASSWORD)
    parent.page.get_by_label("Type the same password again").fill(PARENT_PASSWORD)
    parent.click(parent.page.get_by_role("button", name="Save my password"))
    assert parent.page.get_by_role("heading", name="Recent attendance").is_visible()
    assert parent.page.get_by_text("Did not attend").count() == 2
    # Only what the scope allows: no questionnaires, no messages.
    assert parent.page.get_by_text("PHQ-9").count() == 0
    assert Proxy.objects.get(patient=alma, user__first_name="Rosa").is_active
    parent.assert_every_page_checked()

    # 5. Step-down from PHP to IOP, then discharge as "stopped attending".
    clinician.goto(f"/staff/patients/{alma.pk}/")
    clinician.click(page.get_by_role("link", name="Admission, level of care and discharge"))
    page.get_by_label("New level of care").select_option("iop")
    page.get_by_label("Why").select_option("improved")
    clinician.click(page.get_by_role("button", name="Change the level of care"))
    assert page.get_by_text("Level of care changed to Intensive outpatient.").is_visible()
    change = LevelOfCareChange.objects.get(episode__patient=alma)
    assert (change.from_level, change.to_level) == ("php", "iop")

    today = timezone.now().astimezone(program.tzinfo).date()
    page.get_by_label("Discharge date").fill(today.isoformat())
    page.get_by_label("Stopped attending").check()
    page.get_by_label("Next appointments after discharge").fill("Riverside clinic, Monday 9:00")
    clinician.click(page.get_by_role("button", name="Discharge", exact=True))
    assert page.get_by_text("Stopped attending (unplanned)").is_visible()
    episode = Episode.objects.get(patient=alma)
    assert (episode.status, episode.discharge_reason) == ("discharged", "stopped_attending")
    # Her bookings still to come are released; what happened stays as it was.
    assert not imported.exists()
    assert Attendance.objects.filter(patient=alma, status="absent").count() == 2
    clinician.assert_every_page_checked()

    patient.goto("/me/")
    patient.click(patient.page.get_by_role("link", name="After your program: your aftercare plan"))
    assert patient.page.get_by_text("Riverside clinic, Monday 9:00").is_visible()
    patient.assert_every_page_checked()
