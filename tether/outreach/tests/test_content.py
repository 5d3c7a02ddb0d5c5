"""What may reach a lock screen: every template, with the demo's names, says nothing
clinical; the checker catches what it must."""

from __future__ import annotations

import pytest

from tether.outreach import content
from tether.outreach.models import Kind

DEMO_PROGRAM_NAMES = ["Adult IOP", "Adolescent IOP", "Evening Recovery Group"]


@pytest.mark.parametrize(
    "body",
    [
        "Your PHQ-9 score is 18",
        "Reminder: your IOP group tomorrow",
        "Time for your depression check-in",
        "Sober living meeting at 6",
        "Your result: 15/27",
        "Intensive   outpatient session",
        "Riverbend Adult IOP",
        "Cravings check",
    ],
)
def test_it_refuses_clinical_words(body):
    assert content.problems(body, names=DEMO_PROGRAM_NAMES)
    with pytest.raises(content.UnsafeContent):
        content.check_body(body, names=DEMO_PROGRAM_NAMES)


def test_it_refuses_a_program_name_of_the_organization():
    assert content.problems("See you at Evening Recovery Group", names=DEMO_PROGRAM_NAMES)


def test_every_template_and_reply_is_clean_with_the_demo_data(settings):
    settings.TETHER_SMS_HELP_PHONE = "(413) 555-0100"
    link = "https://tether.example/o/eyJwIjoxLCJrIjoiY2hlY2tpbl9kdWUifQ:abc/"
    for kind in content.TEMPLATES:
        body = content.render(kind, link=link, time="6:00 PM", day="Monday")
        assert content.problems(body, names=DEMO_PROGRAM_NAMES) == [], (kind, body)
        assert len(body) <= 320
    for code in content.REPLIES:
        body = content.reply(code, line=" Your program's line: (413) 555-0100.")
        assert content.problems(body, names=DEMO_PROGRAM_NAMES) == [], (code, body)


def test_help_names_the_brand_a_phone_and_988(settings):
    settings.TETHER_SMS_BRAND = "Tether"
    settings.TETHER_SMS_HELP_PHONE = "(413) 555-0100"
    body = content.reply("help")
    assert "Tether" in body and "(413) 555-0100" in body and "988" in body and "STOP" in body


def test_a_signed_link_reads_back_and_expires(settings):
    url = content.make_link(patient_id=7, kind=Kind.CHECKIN_DUE)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert content.read_link(token) == content.LinkTarget(7, Kind.CHECKIN_DUE)
    assert content.read_link(token[:-2] + "xx") is None
    settings.TETHER_OUTREACH_LINK_MINUTES = -1  # already too old
    assert content.read_link(token) is None
