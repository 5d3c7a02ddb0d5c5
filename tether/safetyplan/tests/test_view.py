from __future__ import annotations

from django.urls import reverse

from tether.privacy.models import AuditEvent, Purpose
from tether.safetyplan.services import safety_plan_save

URL = reverse("safety_plan:view")


def test_it_always_shows_the_program_line_988_and_911_with_call_and_text(cast, client_as):
    body = client_as(cast.patient).get(URL).content.decode()
    assert 'href="tel:5550100"' in body  # the program's crisis line
    # Texting goes only to numbers known to take texts (a text to a landline is lost).
    assert 'href="sms:5550100"' not in body
    assert 'href="tel:988"' in body and 'href="sms:988"' in body
    assert 'href="tel:911"' in body and 'href="sms:911"' not in body
    assert 'href="sms:741741?&amp;body=HOME"' in body
    assert "Your safety plan is empty so far" in body


def test_it_shows_the_six_steps_in_order(cast, client_as):
    safety_plan_save(
        patient=cast.patient.patient,
        author=cast.assigned_clinician,
        content={"warning_signs": "Not sleeping", "safe_environment": "Pills at my sister's"},
        based_on=0,
        purpose=Purpose.TREATMENT,
    )
    body = client_as(cast.patient).get(URL).content.decode()
    titles = [
        "Warning signs",
        "Things I can do on my own",
        "People and places that take my mind off things",
        "People I can ask for help",
        "Professionals and services",
        "Making my surroundings safe",
    ]
    positions = [body.index(t) for t in titles]
    assert positions == sorted(positions)
    assert "Not sleeping" in body and "Pills at my sister&#x27;s" in body
    assert "Last changed by" in body


def test_it_explains_the_offline_copy_before_keeping_anything(cast, client_as):
    body = client_as(cast.patient).get(URL).content.decode()
    assert "Keep my safety plan on this phone" in body
    assert "Anyone who can open this phone could read the copy" in body
    assert "Signing out removes it too" in body
    assert "js/offline.js" in body


def test_it_is_one_tap_from_every_patient_page_and_the_crisis_page(cast, client_as):
    client = client_as(cast.patient)
    assert f'href="{URL}"' in client.get(reverse("portal:home")).content.decode()
    assert f'href="{URL}"' in client.get(reverse("crisis:crisis")).content.decode()


def test_it_checks_access(cast, client_as):
    assert client_as(cast.patient).get(URL).status_code == 200
    for persona in ("parent", "assigned_clinician", "other_org_clinician"):
        assert client_as(getattr(cast, persona)).get(URL).status_code == 404
    # The page takes no id: a patient can only ever reach their own plan.
    assert not AuditEvent.objects.filter(category="shared", outcome="allowed").exclude(
        actor=cast.patient
    )


def test_it_shows_the_patient_their_plan_only(cast, client_as):
    safety_plan_save(
        patient=cast.other_patient.patient,
        author=cast.other_patient,
        content={"warning_signs": "Tom's own sign"},
        based_on=0,
        purpose=Purpose.PATIENT_REQUEST,
    )
    body = client_as(cast.patient).get(URL).content.decode()
    assert "Tom" not in body


def test_the_patients_own_steps_come_first_and_their_numbers_are_tap_to_call(cast, client_as):
    safety_plan_save(
        patient=cast.patient.patient,
        author=cast.patient,
        content={
            "warning_signs": "Not sleeping",
            "people_to_ask": "My sister Jen 555-0142\nDr Lee (555) 010-0123 <b>x</b>",
        },
        based_on=0,
        purpose=Purpose.PATIENT_REQUEST,
    )
    body = client_as(cast.patient).get(URL).content.decode()
    main = body[body.index('id="main"') :]
    # The offer to keep it offline, then the patient's steps, then the professional lines
    # (inside step 5, where Stanley-Brown puts them).
    assert main.index("Keep my safety plan on this phone") < main.index("Not sleeping")
    assert main.index("Not sleeping") < main.index("988 Suicide &amp; Crisis Lifeline")
    assert main.index("Professionals and services") < main.index('href="tel:988"')
    assert '<a class="tel-link" href="tel:5550142">555-0142</a>' in body
    assert '<a class="tel-link" href="tel:5550100123">(555) 010-0123</a>' in body
    assert "&lt;b&gt;x&lt;/b&gt;" in body  # the patient's text stays escaped
    assert "My sister Jen " in body and "<br>" in body
