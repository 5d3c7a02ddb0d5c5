"""The long lists' rows (Jinja2 row templates, tether/lib/jinja.py) escape what people
typed, as the Django pages around them do: a name or a flag's assignee with markup in it
is shown as text, never run as markup."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import User
from tether.flags.models import Flag, Severity

MARKUP = '<img src=x onerror="alert(1)">'
# As text: its "<" escaped (Django writes a quote as &quot;, Jinja2 as &#34;).
ESCAPED = "&lt;img src=x onerror="


def _named_with_markup(cast) -> None:
    patient = cast.patient.patient
    patient.preferred_name = MARKUP
    patient.save(update_fields=["preferred_name"])


def test_the_caseload_board_shows_a_name_with_markup_as_text(cast, client_as):
    _named_with_markup(cast)
    body = client_as(cast.assigned_clinician).get(reverse("staff:dashboard")).content.decode()
    assert ESCAPED in body
    assert MARKUP not in body


def test_the_patient_list_shows_a_name_with_markup_as_text(cast, client_as):
    _named_with_markup(cast)
    body = client_as(cast.front_desk).get(reverse("staff:dashboard")).content.decode()
    assert "Patients you can see" in body  # the front desk's plain list
    assert ESCAPED in body
    assert MARKUP not in body


def test_the_flag_queue_shows_names_with_markup_as_text(cast, client_as):
    _named_with_markup(cast)
    User.objects.filter(pk=cast.assigned_clinician.pk).update(first_name=MARKUP)
    patient = cast.patient.patient
    Flag.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=patient.episodes.get(),
        kind=Flag.Kind.DETERIORATION,
        severity=Severity.MEDIUM,
        reason="phq9_deterioration",
        source_type="checkins.response",
        source_id=1,
        raised_at=timezone.now(),
        assigned_to=cast.assigned_clinician,
    )
    body = client_as(cast.clinical_lead).get(reverse("flags:queue")).content.decode()
    filters, cards = body.split('id="filters-h"', 1)[1].split("</form>", 1)
    assert f'">{ESCAPED}' in filters  # the clinician filter's menu
    assert f"Assigned to {ESCAPED}" in cards  # a flag's sentence
    assert ESCAPED in cards.split("<h2", 2)[1]  # the patient's card
    assert MARKUP not in body
