"""Consent on a phone and care coordination at a desk: a patient in substance-use
treatment shares mental-health records only with their primary-care provider; Part 2
content is refused, the rest goes out with the notice; revoking stops the next update."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tether.accounts.tests.helpers import current_code
from tether.consent.models import ConsentDirective, Disclosure, Recipient
from tether.testing.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(browser: Any, user: Any, *, staff: bool = False) -> None:
    page = browser.page
    browser.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    browser.click(page.get_by_role("button", name="Sign in"))
    if staff:
        device = TOTPDevice.objects.get(user=user)
        page.get_by_label("6-digit code from your app").fill(current_code(device))
        browser.click(page.get_by_role("button", name="Continue"))


def _send_update(desktop: Any, patient_id: int) -> None:
    """No "contains Part 2" box: the label comes from the patient's program (issue 13)."""
    page = desktop.page
    desktop.goto(f"/staff/patients/{patient_id}/coordination/")
    assert page.get_by_text("every update and file sent about them is a Part 2 record").count()
    page.get_by_label("Kind of update").select_option("progress_summary")
    page.get_by_label("What to send").fill("Attends every group; mood steadier.")
    desktop.click(page.get_by_role("button", name="Check consent and send"))


def _sign_consent(phone: Any, category_words: str) -> None:
    page = phone.page
    phone.goto("/me/sharing/")
    phone.click(page.get_by_role("link", name="Let someone see some of my information"))
    page.get_by_label(category_words).check()
    page.get_by_label("Describe exactly what may be shared").fill("Progress summaries")
    page.get_by_label("To help with my treatment").check()
    page.get_by_label("This consent ends on").fill(_in_days(90))
    page.get_by_label("Type your full name to sign").fill("Maria Garcia")
    page.get_by_label("I have read this, I understand it").check()
    phone.click(page.get_by_role("button", name="Sign this consent"))
    assert page.get_by_text("This consent is in force.").is_visible()


def test_a_part2_patients_updates_go_only_under_a_part2_consent(phone, desktop, cast):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    Recipient.objects.create(
        organization=cast.organization,
        name="Dr. Rivera",
        recipient_organization="Main Street Family Clinic",
        kind=Recipient.Kind.PRIMARY_CARE,
    )
    patient_id = cast.patient.patient.pk

    _sign_in(phone, cast.patient)
    page = phone.page
    phone.goto("/me/sharing/")
    phone.click(page.get_by_role("link", name="Let someone see some of my information"))
    page.get_by_label("My mental-health treatment records").check()
    page.get_by_label("Describe exactly what may be shared").fill("Progress summaries")
    page.get_by_label("To help with my treatment").check()
    page.get_by_label("This consent ends on").fill("2099-01-01")
    page.get_by_label("Type your full name to sign").fill("Maria Garcia")
    page.get_by_label("I have read this, I understand it").check()
    phone.click(page.get_by_role("button", name="Sign this consent"))
    # The date was too far away: the form says so and keeps the rest.
    assert page.get_by_text("Choose a date within one year.").is_visible()
    phone.check_accessibility()
    page.get_by_label("This consent ends on").fill(_in_days(90))
    page.get_by_label("I have read this, I understand it").check()
    phone.click(page.get_by_role("button", name="Sign this consent"))
    assert page.get_by_text("This consent is in force.").is_visible()
    assert ConsentDirective.objects.get().category == "mental_health"

    # A mental-health consent does not cover an update from a Part 2 program.
    _sign_in(desktop, cast.assigned_clinician, staff=True)
    _send_update(desktop, patient_id)
    assert desktop.page.get_by_text("Not sent").is_visible()
    assert Disclosure.objects.count() == 0

    _sign_consent(phone, "My substance-use treatment records")
    _send_update(desktop, patient_id)
    assert desktop.page.get_by_role("heading", name="What was sent").is_visible()
    assert desktop.page.get_by_text("protected by Federal confidentiality").count() == 1
    assert Disclosure.objects.get().category == "part2"

    phone.goto("/me/sharing/")
    assert page.get_by_text("Progress summary").is_visible()
    while page.get_by_role("button", name="Stop sharing").count():
        phone.click(page.get_by_role("button", name="Stop sharing").first)
        assert page.get_by_text("Nothing more will be shared").is_visible()
        phone.goto("/me/sharing/")

    _send_update(desktop, patient_id)
    assert desktop.page.get_by_text("Not sent").is_visible()
    assert Disclosure.objects.count() == 1


def _in_days(days: int) -> str:
    import datetime as dt

    from django.utils import timezone

    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def test_a_parent_sees_attendance_but_not_the_adolescents_check_ins(phone, desktop, cast):
    from tether.patients.models import Proxy

    # The program (with the adolescent's assent) lets the parent see family assignments.
    Proxy.objects.filter(user=cast.parent).update(scope_family_assignments=True)
    # At a desk, the clinician assigns a family exercise, ticked "for the family".
    _sign_in(desktop, cast.assigned_clinician, staff=True)
    desk = desktop.page
    desktop.goto(f"/staff/patients/{cast.adolescent.patient.pk}/homework/assign/")
    desk.get_by_label("Homework").select_option("family_what_helps")
    desk.get_by_label("Note for the patient (optional)").fill("Before Thursday, together.")
    desk.get_by_label("For the family (a family-therapy assignment)").check()
    desktop.click(desk.get_by_role("button", name="Assign"))
    assert desk.get_by_text("Homework assigned.").is_visible()

    _sign_in(phone, cast.parent)
    page = phone.page
    assert page.get_by_role("heading", name="Recent attendance").is_visible()
    assert page.get_by_text("You are viewing").is_visible()
    cannot = page.get_by_role("heading", name="What you cannot see")
    assert cannot.is_visible()
    assert page.get_by_text("Check-ins and questionnaires").is_visible()
    assert page.get_by_role("link", name="My progress").count() == 0
    assert page.get_by_role("heading", name="Family assignments").is_visible()
    phone.click(page.get_by_role("link", name="What helps at home (family)"))
    assert page.get_by_role("heading", name="What to do").is_visible()
    assert page.get_by_text("Before Thursday, together.").is_visible()
    assert page.get_by_text("their answers are theirs and are not shown here").is_visible()
    # A link to something outside the parent's scope: a clear "not found", nothing shown.
    phone.goto(f"/messages/family/{cast.adolescent.patient.pk}/")
    assert page.get_by_role("heading", name="Messages with").count() == 0


def test_a_shared_device_hides_everything_clinical_until_full_sign_in(phone, cast):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    _sign_in(phone, cast.patient)
    page = phone.page
    phone.goto("/me/device/")
    phone.click(page.get_by_role("button", name="Mark this device as shared"))
    assert page.get_by_role("heading", name="Quick view").is_visible()
    phone.goto("/me/safety-plan/")
    assert page.get_by_role("heading", name="Quick view").is_visible()
    phone.click(page.get_by_role("link", name="See everything (type my password again)"))
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in fully"))
    assert page.get_by_role("heading", name="Substance-use treatment information").is_visible()
    phone.click(page.get_by_role("button", name="Show my substance-use treatment information"))
    assert page.get_by_role("heading", name="Quick view").count() == 0


def test_quick_view_chosen_at_sign_in_hides_everything_clinical(phone, cast):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    page = phone.page
    phone.goto("/accounts/sign-in/")
    page.get_by_label("Username or email").fill(cast.patient.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("This is a shared device").check()
    phone.click(page.get_by_role("button", name="Sign in"))
    assert page.get_by_role("heading", name="Quick view").is_visible()
    phone.goto("/me/progress/")
    assert page.get_by_role("heading", name="Quick view").is_visible()
    phone.click(page.get_by_role("link", name="See everything (type my password again)"))
    page.get_by_label("Password").fill(PASSWORD)
    phone.click(page.get_by_role("button", name="Sign in fully"))
    assert page.get_by_role("heading", name="Substance-use treatment information").is_visible()
    phone.click(page.get_by_role("button", name="Show my substance-use treatment information"))
    assert page.get_by_role("heading", name="Quick view").count() == 0


def test_a_measure_export_is_refused_then_sent_with_the_notice(phone, desktop, cast):
    import datetime as dt

    from django.utils import timezone

    from tether.consent.services import consent_sign
    from tether.flags.testing import add_response
    from tether.privacy.models import Purpose
    from tether.privacy.policy import Category

    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    patient = cast.patient.patient
    add_response(patient, "phq9", timezone.now() - dt.timedelta(days=8), total=16)
    add_response(patient, "phq9", timezone.now() - dt.timedelta(days=1), total=11)
    pcp = Recipient.objects.create(
        organization=cast.organization,
        name="Dr. Rivera",
        recipient_organization="Main Street Family Clinic",
        kind=Recipient.Kind.PRIMARY_CARE,
    )

    def _consent(category: Category) -> ConsentDirective:
        return consent_sign(
            patient=patient,
            signed_by=cast.patient,
            recipient=pcp,
            category=category,
            description="My questionnaire scores",
            purpose=Purpose.TREATMENT,
            discloser=str(cast.organization),
            expires_on=timezone.localdate() + dt.timedelta(days=30),
            signature_name="Maria Garcia",
        )

    _consent(Category.SELF_REPORT)
    _sign_in(desktop, cast.assigned_clinician, staff=True)
    staff = desktop.page
    desktop.goto(f"/staff/patients/{patient.pk}/coordination/")
    export = staff.get_by_role("region", name="Export the measure history")
    export.get_by_label("Send to").select_option(label="Dr. Rivera, Main Street Family Clinic")
    desktop.click(export.get_by_role("button", name="Check consent and export"))
    assert staff.get_by_role("alert").get_by_text("42 CFR Part 2").is_visible()
    assert not Disclosure.objects.exists()

    _consent(Category.PART2)
    export = staff.get_by_role("region", name="Export the measure history")
    desktop.click(export.get_by_role("button", name="Check consent and export"))
    assert staff.get_by_role("heading", name="What was sent").is_visible()
    assert staff.get_by_text("# Notice to the recipient: This record which has been").is_visible()

    _sign_in(phone, cast.patient)
    phone.goto("/me/sharing/")
    assert phone.page.get_by_text("Measure history export (PHQ-9, GAD-7)").is_visible()


def test_corrections_family_access_and_recipients_pages_pass_axe(phone, desktop, cast):
    _sign_in(phone, cast.patient)
    page = phone.page
    phone.goto("/me/corrections/")
    page.get_by_label("What is wrong in your record?").fill("My middle name is missing")
    page.get_by_label("What should it say?").fill("Maria Elena Garcia")
    phone.click(page.get_by_role("button", name="Send my request"))
    assert page.get_by_text("Waiting for the care team").is_visible()
    phone.goto("/me/sharing/family/")

    _sign_in(desktop, cast.assigned_clinician, staff=True)
    staff = desktop.page
    desktop.goto(f"/staff/patients/{cast.patient.patient.pk}/corrections/")
    staff.get_by_role("radio", name="Deny").check()
    staff.get_by_label("Note (required when you deny").fill("Name matches your ID")
    desktop.click(staff.get_by_role("button", name="Save decision"))
    assert staff.get_by_text("Name matches your ID").is_visible()
    desktop.goto(f"/staff/patients/{cast.adolescent.patient.pk}/family/")
    desktop.goto(f"/staff/patients/{cast.patient.patient.pk}/consent/new/")
    desktop.goto(f"/staff/patients/{cast.patient.patient.pk}/")
    assert staff.get_by_role("heading", name="Consent and care coordination").is_visible()
    desktop.goto("/staff/recipients/")
    staff.get_by_label("Name").fill("Dr. Haddad")
    desktop.click(staff.get_by_role("button", name="Add"))
    assert staff.get_by_text("Dr. Haddad").is_visible()
