"""Issue 14: what the person in crisis and the clinician on duty see, in Chromium.

Each journey failed before the change it names; axe-core runs on every page.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.crisis import services
from tether.crisis.health import scheduler_beat
from tether.crisis.models import UrgentContactRequest
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NY = zoneinfo.ZoneInfo("America/New_York")


def sign_in_patient(phone: Any, username: str = "maria.g") -> None:
    phone.goto("/accounts/sign-in/")
    page = phone.page
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in"))


def sign_in_staff(desktop: Any, user: Any) -> None:
    page = desktop.page
    desktop.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    desktop.click(page.get_by_role("button", name="Sign in"))
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("6-digit code from your app").fill(current_code(device))
    desktop.click(page.get_by_role("button", name="Continue"))


def test_the_clinicians_landing_page_shows_the_waiting_request_and_its_clock(desktop, cast):
    scheduler_beat()
    urgent = services.urgent_contact_raise(
        patient=cast.patient.patient, source=UrgentContactRequest.Source.PATIENT_BUTTON
    )
    sign_in_staff(desktop, cast.assigned_clinician)
    page = desktop.page
    assert page.url.endswith("/staff/")
    at = timezone.localtime(urgent.escalate_at, NY).strftime("%-I:%M %p")
    banner = page.get_by_role("region", name="1 urgent request waiting for you")
    assert banner.is_visible()
    assert banner.get_by_text(f"escalates at {at}").is_visible()
    assert page.get_by_role("link", name="Urgent requests 1 waiting").is_visible()
    desktop.click(banner.get_by_role("link", name="Open the request"))
    desktop.click(page.get_by_role("button", name="Acknowledge"))
    assert page.get_by_role("region", name="1 urgent request waiting for you").count() == 0


def _measures_on(cast: Any) -> None:
    from tether.checkins.models import ProgramInstrument
    from tether.checkins.sync import sync_instruments

    sync_instruments()
    ProgramInstrument.objects.create(
        organization=cast.organization,
        program=cast.iop,
        instrument_code="phq9",
        schedule=ProgramInstrument.Schedule.WEEKLY,
    )


def test_after_item_9_the_patient_reads_when_to_expect_a_call_and_one_flag_is_raised(
    phone, desktop, cast
):
    from tether.flags.models import Flag
    from tether.flags.services import flags_sweep

    scheduler_beat()
    _measures_on(cast)
    sign_in_patient(phone)
    page = phone.page
    phone.click(page.get_by_role("button", name="Your weekly questionnaire (PHQ-9)"))
    for _position in range(1, 9):
        phone.click(page.get_by_role("button", name="Several days"))
    phone.click(page.get_by_role("button", name="Several days"))  # item 9
    assert page.get_by_role("heading", name="What happens next").is_visible()
    promise = page.get_by_text("Expect a call by").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    urgent = UrgentContactRequest.objects.get()
    sign_in_staff(desktop, cast.assigned_clinician)
    desktop.goto(f"/crisis/requests/{urgent.pk}/")
    told = desktop.page.get_by_text("Patient was told to expect contact by")
    staff_time = told.locator("xpath=following-sibling::dd[1]").inner_text().strip()
    assert promise == f"Expect a call by {staff_time}."

    flags_sweep()
    safety = Flag.objects.filter(patient=cast.patient.patient, kind=Flag.Kind.SAFETY)
    assert list(safety.values_list("reason", flat=True)) == ["phq9_item9"]


def test_a_typed_plea_without_the_tick_raises_an_urgent_request(phone, cast):
    sign_in_patient(phone)
    page = phone.page
    phone.click(page.get_by_role("link", name="Messages"))
    page.get_by_role("textbox", name="Your message").fill("I need to talk to someone now")
    phone.click(page.get_by_role("button", name="Send"))
    assert page.get_by_text("Message sent.").count() == 0
    assert page.get_by_text(
        "We have asked your care team to contact you urgently.", exact=False
    ).first.is_visible()
    urgent = UrgentContactRequest.objects.get()
    assert urgent.source == UrgentContactRequest.Source.MESSAGE_URGENT


def _first_screen(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 740


@pytest.mark.parametrize("signed_in", [True, False])
def test_the_crisis_pages_first_screen_holds_the_call_and_text_buttons(
    phone, cast, settings, signed_in
):
    settings.TETHER_HOST_ORGANIZATIONS = {"127.0.0.1": "riverbend", "localhost": "riverbend"}
    page = phone.page
    if signed_in:
        sign_in_patient(phone)
        phone.click(page.get_by_role("link", name="Need help now?"))
    else:
        phone.goto("/crisis/")
    assert page.evaluate("window.innerHeight") == 740
    assert page.evaluate("window.scrollY") == 0
    main = page.locator("#main")
    buttons = {
        "Call 988": "tel:988",
        "Text 988": "sms:988",
        "Call 911": "tel:911",
    }
    for name, href in buttons.items():
        link = main.get_by_role("link", name=name)
        assert link.get_attribute("href") == href
        assert _first_screen(page, link), name
        box = link.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 120, name
    if signed_in:
        own = main.get_by_role("link", name="Call your program")
        assert own.get_attribute("href") == "tel:5550100"
        assert _first_screen(page, own)
        below = main.get_by_role("button", name="Ask my care team to contact me urgently")
    else:
        below = main.get_by_role("link", name="Sign in")
    # The red crisis bar stays; the request or sign-in comes after the calls.
    assert page.get_by_role("navigation", name="Crisis help").is_visible()
    top_call = main.get_by_role("link", name="Call 911").bounding_box()
    below_box = below.bounding_box()
    assert top_call is not None and below_box is not None and below_box["y"] > top_call["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_parent_has_an_urgent_route_on_the_crisis_page(phone, cast):
    from tether.patients.models import Proxy

    Proxy.objects.filter(user=cast.parent).update(scope_messaging=True)
    sign_in_patient(phone, "grace.k")
    page = phone.page
    phone.click(page.get_by_role("link", name="Need help now?"))
    assert page.get_by_role("link", name="Call your program").get_attribute("href") == (
        "tel:5550110"
    )
    route = page.get_by_role("link", name="Message Jordan's care team and tick “urgent”")
    phone.click(route)
    assert page.get_by_role("checkbox").count() >= 1


def test_review_board_and_homework_page_agree_on_a_patients_homework(desktop, cast):
    import re

    from tether.homework.library import builtin_library
    from tether.homework.services import assignment_complete, assignment_create
    from tether.privacy.models import Purpose

    library = builtin_library()
    today = timezone.localdate()
    patient = cast.patient.patient
    for key, due_in, done in (
        ("reflection", 5, True),  # finished early
        ("thought_record", -2, True),
        ("coping_skills", -3, False),  # overdue
        ("dbt_diary_card", 6, False),  # not due yet
    ):
        assignment = assignment_create(
            patient=patient,
            definition=library[key],
            assigned_by=cast.assigned_clinician,
            due_on=today + dt.timedelta(days=due_in),
            starts_on=min(today, today + dt.timedelta(days=due_in)),
            note="",
        )
        if done:
            assignment_complete(
                assignment=assignment, actor=cast.patient, purpose=Purpose.PATIENT_REQUEST
            )
    sign_in_staff(desktop, cast.assigned_clinician)
    page = desktop.page
    row = page.get_by_role("row").filter(has_text="Garcia")
    board = re.search(r"(\d+) of (\d+) done", row.inner_text())
    desktop.click(row.get_by_role("link", name="Garcia, Maria"))
    review = re.search(r"Last 28 days: (\d+) of (\d+) done", page.locator("#main").inner_text())
    desktop.click(page.get_by_role("link", name="All homework"))
    listing = re.search(r"Last 28 days: (\d+) of (\d+) done", page.locator("#main").inner_text())
    assert board and review and listing
    assert board.groups() == review.groups() == listing.groups() == ("2", "3")


def test_the_lead_filters_the_queue_to_one_patients_grouped_flags(desktop, cast):
    from tether.flags.models import Flag

    def flag(user: Any, reason: str, severity: int, hours: int) -> None:
        patient = user.patient
        Flag.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            episode=patient.episodes.get(),
            kind=Flag.Kind.SAFETY,
            severity=severity,
            reason=reason,
            source_type="checkins.response",
            source_id=Flag.objects.count() + 1,
            raised_at=timezone.now() - dt.timedelta(hours=hours),
        )

    for hours in (2, 50, 130):
        flag(cast.patient, "phq9_item9", 3, hours)
    flag(cast.other_patient, "instrument_alert", 2, 5)
    sign_in_staff(desktop, cast.clinical_lead)
    page = desktop.page
    desktop.goto("/staff/flags/")
    assert page.get_by_text("2 high flags not acknowledged for more than 24 hours.").is_visible()
    garcia = page.get_by_role("article", name="Garcia, Maria 3 open flags Overdue")
    assert garcia.is_visible()
    assert garcia.get_by_role("link", name="Pre-session review").is_visible()
    desktop.click(garcia.get_by_role("link", name="Only this patient"))
    assert page.get_by_role("article").count() == 1
    assert page.get_by_role("article").get_by_role("heading", level=3).count() == 3
    page.get_by_label("Waiting").select_option("3")
    desktop.click(page.get_by_role("button", name="Show"))
    assert page.get_by_role("article").get_by_role("heading", level=3).count() == 1
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 2500, height


def test_the_safety_plan_opens_on_the_patients_own_first_step_with_tap_to_call(phone, cast):
    from tether.privacy.models import Purpose
    from tether.safetyplan.services import safety_plan_save

    safety_plan_save(
        patient=cast.patient.patient,
        author=cast.patient,
        content={
            "warning_signs": "Not sleeping, pulling away from people",
            "coping_strategies": "Walk the dog",
            "people_to_ask": "My sister Jen 555-0142",
        },
        based_on=0,
        purpose=Purpose.PATIENT_REQUEST,
    )
    sign_in_patient(phone)
    page = phone.page
    phone.click(page.get_by_role("link", name="My safety plan"))
    first_step = page.get_by_role("heading", name="Warning signs that a crisis may be developing")
    box = first_step.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740, box
    assert page.get_by_text("Not sleeping, pulling away from people").is_visible()
    offer = page.get_by_role("button", name="Keep my safety plan on this phone")
    offer_box = offer.bounding_box()
    assert offer_box is not None and offer_box["y"] < box["y"]
    jen = page.get_by_role("link", name="555-0142")
    assert jen.get_attribute("href") == "tel:5550142"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_an_adult_mental_health_patient_sees_no_craving_chart(phone, cast):
    from tether.flags.testing import add_response

    for day in (3, 2, 1):
        add_response(
            cast.patient.patient,
            "daily",
            timezone.now() - dt.timedelta(days=day),
            items={"mood": 6, "craving": 4},
        )
    sign_in_patient(phone)
    page = phone.page
    phone.goto("/me/progress/")
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.get_by_text("craving", exact=False).count() == 0


def test_the_quick_view_of_a_part2_patient_shows_no_part2_program_name(phone, cast):
    from tether.scheduling.models import Appointment, Attendance

    cast.iop.name = "Recovery IOP"
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["name", "treats_substance_use"])
    starts = timezone.now() + dt.timedelta(days=1)
    patient = cast.patient.patient
    appointment = Appointment.objects.create(
        organization=cast.organization,
        program=cast.iop,
        kind=Appointment.Kind.GROUP,
        title="Recovery IOP morning group",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
    )
    Attendance.objects.create(
        organization=cast.organization,
        appointment=appointment,
        patient=patient,
        episode=patient.episodes.get(),
    )
    page = phone.page
    phone.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill("maria.g")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Quick view", exact=False).check()
    phone.click(page.get_by_role("button", name="Sign in"))
    assert page.get_by_role("heading", name="Quick view").is_visible()
    assert page.get_by_text("Group session", exact=False).is_visible()
    assert "Recovery" not in page.locator("body").inner_text()
    phone.click(page.get_by_role("link", name="Need help now?"))
    assert "Recovery" not in page.locator("body").inner_text()


def test_the_mood_scale_is_one_row_at_360_px(phone, cast):
    from tether.checkins.models import ProgramInstrument
    from tether.checkins.sync import sync_instruments

    sync_instruments()
    ProgramInstrument.objects.create(
        organization=cast.organization,
        program=cast.iop,
        instrument_code="daily",
        schedule=ProgramInstrument.Schedule.DAILY,
    )
    sign_in_patient(phone)
    page = phone.page
    phone.click(page.get_by_role("button", name="How are you today?"))
    boxes = [page.get_by_role("button", name=str(n), exact=True).bounding_box() for n in range(11)]
    assert all(box is not None for box in boxes)
    tops = {round(box["y"]) for box in boxes if box is not None}
    assert len(tops) == 1, tops
    assert min(box["width"] for box in boxes if box is not None) >= 24
    assert min(box["height"] for box in boxes if box is not None) >= 48
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_leads_navigation_keeps_sign_out_on_one_row_at_1280_px(desktop, cast):
    sign_in_staff(desktop, cast.clinical_lead)
    page = desktop.page
    nav = page.get_by_role("navigation", name="Staff")
    first = nav.get_by_role("link", name="Patients").bounding_box()
    sign_out = nav.get_by_role("button", name="Sign out").bounding_box()
    assert first is not None and sign_out is not None
    assert abs(first["y"] - sign_out["y"]) < 10, (first, sign_out)


def test_on_a_phone_the_boards_wide_table_scrolls_in_its_own_region(phone, cast):
    """A clinician checking the board on a phone: the table (nine columns) scrolls
    sideways inside its labelled region and the page itself does not. The trend arrows'
    spoken words are visually hidden (absolutely positioned): they used to escape the
    region and widen the whole page (445 px on the 10,000-patient data set)."""
    from tether.flags.testing import add_response
    from tether.patients.models import Patient

    # A longer family name, as real caseloads have: the trend columns start further right.
    Patient.objects.filter(pk=cast.patient.patient.pk).update(last_name="Garcia-Villanueva")
    now = timezone.now()
    add_response(cast.patient.patient, "phq9", now - dt.timedelta(days=8), total=6)
    add_response(cast.patient.patient, "phq9", now - dt.timedelta(days=1), total=12)
    add_response(cast.patient.patient, "gad7", now - dt.timedelta(days=8), total=5)
    add_response(cast.patient.patient, "gad7", now - dt.timedelta(days=1), total=11)
    sign_in_staff(phone, cast.assigned_clinician)
    page = phone.page
    assert page.get_by_text("higher than last time (worse)").count() >= 1
    region = page.locator(".table-wrap").first
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
