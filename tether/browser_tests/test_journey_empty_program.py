"""A program's first week from an empty database, through the app: the database holds one
organization and its first program admin, nothing else. The admin creates the program
(crisis line, time zone, office hours), asks a questionnaire, invites a clinician by
e-mail and lays out a recurring group run by them; the clinician opens the e-mailed
links on a 390-px phone (password, authenticator app), admits a patient, books the
group and takes attendance for its 12 people (taps and seconds measured). axe on every
page."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.models import User
from tether.accounts.tests.helpers import current_code
from tether.checkins.sync import sync_instruments
from tether.organizations.models import Organization, Program, StaffMember
from tether.patients.models import LevelOfCare, Patient
from tether.patients.services import patient_register
from tether.scheduling import services as scheduling
from tether.scheduling.models import Attendance, GroupSeries
from tether.testing.browser import DESKTOP, Browser
from tether.testing.cast import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_390 = {"width": 390, "height": 844}
NEW_PASSWORD = "a long evening walk by the river"


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def test_an_empty_program_runs_its_first_group_through_the_app(
    chromium: Any, live_server: Any
) -> None:
    sync_instruments()  # the questionnaires' reference definitions, not clinic data
    org = Organization.objects.create(name="Lakeside Recovery", slug="lakeside")
    admin_user = make_staff(org, "ada.first", StaffMember.Role.PROGRAM_ADMIN, [], first_name="Ada")

    desk_context = chromium.new_context(viewport=DESKTOP)
    admin = Browser(page=desk_context.new_page(), base_url=live_server.url)
    page = admin.page
    admin.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill("ada.first")
    page.get_by_label("Password").fill(PASSWORD)
    admin.click(page.get_by_role("button", name="Sign in"))
    page.get_by_label("6-digit code from your app").fill(
        current_code(TOTPDevice.objects.get(user=admin_user))
    )
    admin.click(page.get_by_role("button", name="Continue"))

    # 1. The program: no program yet, so set-up starts with creating one.
    admin.click(page.get_by_role("link", name="Questionnaires and on-call"))
    assert page.get_by_role("heading", name="New program").is_visible()
    page.get_by_label("Name of the program").fill("Evening IOP")
    page.get_by_label("Kind").select_option(label="Intensive outpatient (IOP)")
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_label("Program crisis line (answered around the clock)").fill("12")
    admin.click(page.get_by_role("button", name="Create the program"))
    assert page.get_by_text("This is not a phone number that can be dialled.").is_visible()
    assert page.get_by_label("Name of the program").input_value() == "Evening IOP"
    page.get_by_label("Program crisis line (answered around the clock)").fill("413-555-0177")
    admin.click(page.get_by_role("button", name="Create the program"))
    assert page.get_by_text("Evening IOP is set up.").is_visible()
    program = Program.objects.get(name="Evening IOP")
    page.get_by_label("PHQ-9", exact=False).first.select_option("weekly")
    admin.click(page.get_by_role("button", name=re.compile("^Save PHQ-9")))
    assert page.get_by_text("Saved. Patients see the change at once.").is_visible()

    # 2. A clinician, invited by e-mail.
    admin.click(page.get_by_role("link", name="Staff", exact=True))
    page.get_by_label("First name").fill("Dana")
    page.get_by_label("Last name").fill("Rivers")
    page.get_by_label("Work e-mail").fill("dana.rivers@example.org")
    page.get_by_label("Role").select_option("clinician")
    page.get_by_label("Evening IOP").check()
    admin.click(page.get_by_role("button", name="Send the invitation"))
    assert page.get_by_text("Invitation sent to dana.rivers@example.org").is_visible()
    (message,) = mail.outbox
    password_link, setup_link = re.findall(r"https?://\S+", str(message.body))

    # 3. A recurring evening group run by the clinician; its first meeting in 20 minutes.
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
    admin.click(page.get_by_role("button", name="Put the group on the schedule"))
    assert page.get_by_role("heading", name="Evening process group").is_visible()
    series = GroupSeries.objects.get(title="Evening process group")
    admin.assert_every_page_checked()
    desk_context.close()

    # 4. The clinician, on a 390-px phone: password, then the authenticator app.
    phone_context = chromium.new_context(viewport=PHONE_390, is_mobile=True, has_touch=True)
    clinician = Browser(page=phone_context.new_page(), base_url=live_server.url)
    page = clinician.page
    clinician.goto(_path(password_link))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type the same password again").fill(NEW_PASSWORD)
    clinician.click(page.get_by_role("button", name="Save my password"))
    clinician.goto(_path(setup_link))
    dana = User.objects.get(email="dana.rivers@example.org")
    page.get_by_label("6-digit code from your app").fill(
        current_code(TOTPDevice.objects.get(user=dana, confirmed=False))
    )
    clinician.click(page.get_by_role("button", name="Turn on two-step sign-in"))
    assert TOTPDevice.objects.filter(user=dana, confirmed=True).exists()

    # 5. Admission: the clinician registers (admits) a patient at intake.
    clinician.goto("/staff/patients/new/")
    page.get_by_label("First name").fill("Alma")
    page.get_by_label("Last name").fill("Reyes")
    page.get_by_label("Date of birth").fill("1988-04-09")
    page.get_by_label("Record number (MRN)").fill("MRN-1001")
    page.get_by_label("Primary therapist").select_option(label="Dana Rivers")
    clinician.click(page.get_by_role("button", name="Register patient"))
    assert page.get_by_role("heading", level=1).inner_text() == "Alma Reyes"

    # 6. The clinician books her into the group.
    clinician.goto(f"/staff/schedule/groups/{series.pk}/")
    page.get_by_label("Add a patient of this program").select_option(label="Alma Reyes")
    clinician.click(page.get_by_role("button", name="Add to the roster"))
    assert page.get_by_text("Alma Reyes is on the roster.").is_visible()
    # Eleven more admitted and booked by the same services the pages call (the page
    # steps above are the same for each; repeating them would only lengthen the test).
    staff = dana.staff_member
    today = timezone.now().astimezone(program.tzinfo).date()
    for n in range(1, 12):
        patient = patient_register(
            registered_by=staff,
            program=program,
            first_name=f"Member{n:02d}",
            last_name="Group",
            preferred_name="",
            date_of_birth=dt.date(1990, 1, n),
            record_number=f"MRN-{1001 + n}",
            mobile_phone="",
            email="",
            level_of_care=LevelOfCare.IOP,
            admitted_on=today,
            primary_therapist=staff,
        )
        scheduling.roster_add(series=series, patient=patient, user=dana)
    assert Patient.objects.count() == 12

    # 7. Attendance for the 12, on the phone.
    meeting = series.occurrences.order_by("starts_at").first()
    assert meeting is not None
    clinician.goto(f"/staff/schedule/sessions/{meeting.pk}/")
    clinician.click(page.get_by_role("link", name="Take attendance"))
    assert page.locator(".attendance__person").count() == 12

    def person(name: str) -> Any:
        return page.locator(".attendance__person", has=page.get_by_text(name, exact=True))

    taps = 0
    started = time.perf_counter()
    person("Member01 Group").get_by_text("Late", exact=True).tap()
    taps += 1
    person("Member02 Group").get_by_text("Left early", exact=True).tap()
    taps += 1
    person("Member03 Group").get_by_text("Excused", exact=True).tap()
    taps += 1
    person("Member03 Group").get_by_role("combobox").select_option("transport")
    taps += 2  # open the list, choose
    person("Alma Reyes").get_by_text("Absent", exact=True).tap()
    taps += 1
    with page.expect_navigation():
        page.get_by_role("button", name="Save attendance").tap()
    taps += 1
    seconds = time.perf_counter() - started
    clinician.check_accessibility()
    print(f"\nEMPTY PROGRAM, attendance for 12 at 390 px: {taps} taps, {seconds:.2f} s (browser)")
    assert page.get_by_text("Attendance saved for 12 people").is_visible()
    statuses = dict(
        Attendance.objects.filter(appointment=meeting).values_list("patient__first_name", "status")
    )
    assert statuses["Alma"] == "absent" and statuses["Member03"] == "excused"
    assert list(statuses.values()).count("attended") == 8
    # Nothing on the 390-px page is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_390["width"]
    clinician.assert_every_page_checked()
    phone_context.close()
