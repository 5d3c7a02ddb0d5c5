from __future__ import annotations

import pytest
from django.urls import reverse

from tether.outreach.content import make_link
from tether.outreach.models import ContactPreference, Kind, SmsConsentEvent

FORM = {
    "sms_phone": "(413) 555-0142",
    "by_sms": "on",
    "checkin_due": "on",
    "session_reminder": "on",
    "daily_checkin_by_text": "on",
    "quiet_from": "21:00",
    "quiet_until": "08:00",
}


@pytest.mark.django_db
def test_it_saves_the_choice_and_records_the_opt_in(cast, client_as):
    client = client_as(cast.patient)
    page = client.get(reverse("outreach:reminders"))
    assert page.status_code == 200 and "Quiet hours" in page.content.decode()
    response = client.post(reverse("outreach:reminders"), FORM)
    assert response.status_code == 302
    pref = ContactPreference.objects.get(patient=cast.patient.patient)
    assert pref.sms_phone == "+14135550142" and pref.sms_allowed
    event = SmsConsentEvent.objects.get()
    assert (event.change, event.method, event.recorded_by) == ("opt_in", "portal", cast.patient)


@pytest.mark.django_db
def test_texts_without_a_number_are_refused_with_what_was_typed(cast, client_as):
    client = client_as(cast.patient)
    response = client.post(reverse("outreach:reminders"), {**FORM, "sms_phone": ""})
    assert response.status_code == 400
    assert "Texts need your mobile number" in response.content.decode()
    assert not SmsConsentEvent.objects.exists()


@pytest.mark.django_db
def test_it_is_in_the_more_menu(cast, client_as):
    page = client_as(cast.patient).get(reverse("portal:home"))
    assert reverse("outreach:reminders") in page.content.decode()


@pytest.mark.django_db
def test_a_signed_link_needs_sign_in_and_its_own_patient(cast, client, client_as):
    url = make_link(patient_id=cast.patient.patient.pk, kind=Kind.CHECKIN_DUE)
    path = url.split("tether.example", 1)[-1] if "tether.example" in url else url
    path = "/" + path.split("/", 3)[-1] if path.startswith("http") else path
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]
    assert client_as(cast.patient).get(path)["Location"] == reverse("portal:home")
    assert client_as(cast.other_patient).get(path).status_code == 404
