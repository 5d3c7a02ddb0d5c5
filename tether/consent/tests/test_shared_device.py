from __future__ import annotations

from typing import Any

from django.urls import reverse

from tether.consent import shared_device
from tether.testing.cast import PASSWORD


def _shared(client_as: Any, cast: Any) -> Any:
    client = client_as(cast.patient)
    client.post(reverse("consent:device"), {"shared": "1"})
    assert client.cookies[shared_device.COOKIE].value == "1"
    return client


def test_a_shared_device_shows_only_the_quick_view(cast, client_as):
    client = _shared(client_as, cast)
    for name in ("portal:home", "checkins:progress", "messaging:thread", "safety_plan:view"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"] == reverse("consent:quick_view")
    page = client.get(reverse("consent:quick_view")).content.decode()
    assert "only your appointments and help show" in page
    assert client.get(reverse("crisis:crisis")).status_code == 200


def test_a_full_sign_in_opens_the_record(cast, client_as):
    client = _shared(client_as, cast)
    wrong = client.post(reverse("consent:unlock"), {"password": "not it"})
    assert "That password is not right" in wrong.content.decode()
    assert client.get(reverse("portal:home")).status_code == 302
    client.post(reverse("consent:unlock"), {"password": PASSWORD})
    assert client.get(reverse("portal:home")).status_code == 200


def test_part2_needs_the_affirmative_step_too(cast, client_as):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    client = _shared(client_as, cast)
    client.post(reverse("consent:unlock"), {"password": PASSWORD})
    response = client.get(reverse("portal:home"))
    assert response["Location"] == reverse("consent:show_part2")
    client.post(reverse("consent:show_part2"))
    assert client.get(reverse("portal:home")).status_code == 200


def test_an_unshared_device_is_unchanged(cast, client_as):
    client = client_as(cast.patient)
    assert client.get(reverse("portal:home")).status_code == 200
    client = _shared(client_as, cast)
    client.post(reverse("consent:device"), {"shared": "0"})
    assert client.get(reverse("portal:home")).status_code == 200


# --- "Quick view" chosen at sign-in ---------------------------------------------------


def _sign_in(client: Any, username: str, *, quick: bool) -> Any:
    data = {"username": username, "password": PASSWORD}
    if quick:
        data["quick_view"] = "1"
    return client.post(reverse("accounts:login"), data)


def test_quick_view_at_sign_in_opens_only_the_quick_view(cast, client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert "This is a shared device" in page
    response = _sign_in(client, "maria.g", quick=True)
    assert response.status_code == 302
    assert response["Location"] == reverse("consent:quick_view")
    assert client.cookies[shared_device.COOKIE].value == "1"
    for name in ("portal:home", "checkins:progress", "safety_plan:view"):
        assert client.get(reverse(name))["Location"] == reverse("consent:quick_view")
    assert client.get(reverse("consent:quick_view")).status_code == 200
    # The fresh full sign-in opens the record, exactly as on a device marked at /me/device/.
    client.post(reverse("consent:unlock"), {"password": PASSWORD})
    assert client.get(reverse("portal:home")).status_code == 200


def test_quick_view_at_sign_in_still_asks_the_part2_step(cast, client):
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["treats_substance_use"])
    _sign_in(client, "maria.g", quick=True)
    client.post(reverse("consent:unlock"), {"password": PASSWORD})
    assert client.get(reverse("checkins:progress"))["Location"] == reverse("consent:show_part2")
    client.post(reverse("consent:show_part2"))
    assert client.get(reverse("checkins:progress")).status_code == 200


def test_a_wrong_password_with_quick_view_marks_nothing(cast, client):
    response = client.post(
        reverse("accounts:login"), {"username": "maria.g", "password": "nope", "quick_view": "1"}
    )
    assert response.status_code == 200
    assert shared_device.COOKIE not in client.cookies
    assert 'name="quick_view"' in response.content.decode()
    assert "checked" in response.content.decode()  # what was ticked stays ticked


def test_the_sign_in_page_remembers_a_shared_device_and_can_unmark_it(cast, client):
    _sign_in(client, "maria.g", quick=True)
    client.post(reverse("accounts:logout"))
    page = client.get(reverse("accounts:login")).content.decode()
    assert (
        'name="quick_view" id="id_quick_view" value="1" aria-describedby="quick-view-help" checked'
        in page
    )
    _sign_in(client, "maria.g", quick=False)
    assert client.cookies[shared_device.COOKIE].value == ""
    assert client.get(reverse("portal:home")).status_code == 200


def test_staff_ignore_quick_view(cast, client):
    response = _sign_in(client, "dana.clinician", quick=True)
    assert response["Location"] != reverse("consent:quick_view")
    assert shared_device.COOKIE not in client.cookies


def _recovery_group(cast: Any, patient: Any, title: str) -> None:
    import datetime as dt

    from django.utils import timezone

    from tether.scheduling.models import Appointment, Attendance

    starts = timezone.now() + dt.timedelta(days=1)
    appointment = Appointment.objects.create(
        organization=cast.organization,
        program=patient.episodes.get().program,
        kind=Appointment.Kind.GROUP,
        title=title,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=3),
    )
    Attendance.objects.create(
        organization=cast.organization,
        appointment=appointment,
        patient=patient,
        episode=patient.episodes.get(),
    )


def test_the_quick_view_never_names_a_part2_program(cast, client_as):
    cast.iop.name = "Recovery IOP"
    cast.iop.treats_substance_use = True
    cast.iop.save(update_fields=["name", "treats_substance_use"])
    _recovery_group(cast, cast.patient.patient, "Recovery IOP morning group")
    client = _shared(client_as, cast)
    page = client.get(reverse("consent:quick_view")).content.decode()
    assert "Group session" in page
    assert "Recovery" not in page
    crisis = client.get(reverse("crisis:crisis")).content.decode()
    assert "Your program&#x27;s crisis line" in crisis and "Recovery IOP" not in crisis


def test_a_general_programs_session_keeps_its_title_in_the_quick_view(cast, client_as):
    _recovery_group(cast, cast.patient.patient, "Tuesday evening group")
    page = _shared(client_as, cast).get(reverse("consent:quick_view")).content.decode()
    assert "Tuesday evening group" in page


def test_a_family_member_never_sees_a_part2_program_name(cast, client_as):
    cast.adolescent_iop.name = "Teen Recovery IOP"
    cast.adolescent_iop.treats_substance_use = True
    cast.adolescent_iop.save(update_fields=["name", "treats_substance_use"])
    _recovery_group(cast, cast.adolescent.patient, "Teen Recovery IOP group")
    client = client_as(cast.parent)
    for name in ("portal:family_home", "crisis:crisis"):
        page = client.get(reverse(name)).content.decode()
        assert "Recovery" not in page, name
