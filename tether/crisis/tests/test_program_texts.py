"""The program's own crisis line gets a "Text" button only when the program says it
takes texts: a text sent to a landline is silently lost."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tether.crisis import services

SMS = 'href="sms:5550100"'  # the Adult IOP crisis line, 555-0100
TEL = 'href="tel:5550100"'


@pytest.fixture
def texting(cast):
    cast.iop.crisis_line_takes_texts = True
    cast.iop.save(update_fields=["crisis_line_takes_texts"])
    return cast


def _crisis_page(client) -> str:
    return str(client.get(reverse("crisis:crisis")).content.decode())


def test_the_crisis_page_has_no_text_button_for_a_line_that_takes_no_texts(cast, client_as):
    body = _crisis_page(client_as(cast.patient))
    assert TEL in body
    assert SMS not in body


def test_the_crisis_page_offers_text_when_the_line_takes_texts(texting, client_as):
    body = _crisis_page(client_as(texting.patient))
    assert TEL in body and SMS in body


def test_signed_out_the_crisis_page_offers_text_only_for_the_line_that_takes_texts(
    texting, client, settings
):
    settings.TETHER_HOST_ORGANIZATIONS = {"testserver": texting.organization.slug}
    body = _crisis_page(client)
    assert TEL in body and SMS in body
    assert 'href="tel:5550110"' in body  # the adolescent program's line: call only
    assert 'href="sms:5550110"' not in body


def test_the_safety_plan_offers_text_only_when_the_line_takes_texts(cast, client_as):
    url = reverse("safety_plan:view")
    assert SMS not in client_as(cast.patient).get(url).content.decode()
    cast.iop.crisis_line_takes_texts = True
    cast.iop.save(update_fields=["crisis_line_takes_texts"])
    body = client_as(cast.patient).get(url).content.decode()
    assert TEL in body and SMS in body


def test_the_offline_safety_plan_copy_keeps_the_text_button(texting, client_as):
    body = client_as(texting.patient).get(reverse("safety_plan:offline_copy")).content.decode()
    assert SMS in body


def test_the_home_page_offers_text_only_when_the_line_takes_texts(cast, client_as):
    url = reverse("portal:home")
    assert 'href="sms:555-0100"' not in client_as(cast.patient).get(url).content.decode()
    cast.iop.crisis_line_takes_texts = True
    cast.iop.save(update_fields=["crisis_line_takes_texts"])
    assert 'href="sms:555-0100"' in client_as(cast.patient).get(url).content.decode()


def test_the_urgent_request_page_offers_text_only_when_the_line_takes_texts(cast, client_as):
    urgent = services.urgent_contact_raise(patient=cast.patient.patient, source="patient_button")
    url = reverse("crisis:urgent_status", kwargs={"request_id": urgent.pk})
    assert SMS not in client_as(cast.patient).get(url).content.decode()
    cast.iop.crisis_line_takes_texts = True
    cast.iop.save(update_fields=["crisis_line_takes_texts"])
    assert SMS in client_as(cast.patient).get(url).content.decode()


def test_the_after_hours_line_never_gets_a_text_button(texting, client_as):
    body = _crisis_page(client_as(texting.patient))
    assert 'href="tel:5550101"' in body  # after-hours on-call
    assert 'href="sms:5550101"' not in body
