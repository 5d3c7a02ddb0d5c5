from __future__ import annotations

from django.urls import reverse

from tether.accounts.models import User
from tether.patients.models import Patient, Proxy
from tether.testing.cast import PASSWORD, Cast


def make_proxy_for(cast: Cast, patient: Patient) -> Proxy:
    user = User.objects.create_user(
        username="sam.spouse",
        password=PASSWORD,
        first_name="Sam",
        last_name="Garcia",
        kind=User.Kind.PROXY,
        organization=cast.organization,
    )
    return Proxy.objects.create(
        organization=cast.organization,
        patient=patient,
        user=user,
        relationship=Proxy.Relationship.SPOUSE,
    )


def test_an_adult_patient_grants_and_revokes_a_scope(cast, client_as):
    proxy = make_proxy_for(cast, cast.patient.patient)
    client = client_as(cast.patient)
    page = client.get(reverse("consent:patient_family")).content.decode()
    assert "Allow: Messaging with the care team" in page
    client.post(
        reverse("consent:patient_family"),
        {"proxy": proxy.pk, "scope": "attendance", "granted": "0"},
    )
    proxy.refresh_from_db()
    assert not proxy.scope_attendance
    family = client_as(proxy.user).get(reverse("portal:family_home")).content.decode()
    assert "Recent attendance" not in family
    assert "Coming up" in family


def test_an_adolescent_cannot_change_scopes_set_by_the_program(cast, client_as):
    proxy = Proxy.objects.get(user=cast.parent)
    client = client_as(cast.adolescent)
    page = client.get(reverse("consent:patient_family")).content.decode()
    assert "your program sets what your family can see" in page
    response = client.post(
        reverse("consent:patient_family"),
        {"proxy": proxy.pk, "scope": "attendance", "granted": "0"},
    )
    assert response.status_code == 404
    proxy.refresh_from_db()
    assert proxy.scope_attendance


def test_a_patient_cannot_change_someone_elses_proxy(cast, client_as):
    proxy = Proxy.objects.get(user=cast.parent)
    response = client_as(cast.patient).post(
        reverse("consent:patient_family"),
        {"proxy": proxy.pk, "scope": "messaging", "granted": "1"},
    )
    assert response.status_code == 404
    proxy.refresh_from_db()
    assert not proxy.scope_messaging


def test_the_family_view_says_whose_account_and_what_is_hidden(cast, client_as):
    page = client_as(cast.parent).get(reverse("portal:family_home")).content.decode()
    name = cast.adolescent.patient.friendly_name
    assert f"You are viewing {name}" in page.replace("&#x27;", "'")
    assert "Check-ins and questionnaires" in page
    assert "Substance-use treatment records" in page


def test_the_care_team_sets_an_adolescents_family_scopes_with_assent(cast, client_as):
    proxy = Proxy.objects.get(user=cast.parent)
    url = reverse("consent:staff_family", args=[cast.adolescent.patient.pk])
    client = client_as(cast.assigned_clinician)
    data = {"proxy": proxy.pk, "scope": "family_updates", "granted": "1"}
    refused = client.post(url, data)
    assert "tick that they agreed" in refused.content.decode()
    proxy.refresh_from_db()
    assert not proxy.scope_family_updates
    client.post(url, {**data, "assent": "1"})
    proxy.refresh_from_db()
    assert proxy.scope_family_updates and proxy.assent_recorded_at is not None
    for persona in ("clinical_lead", "front_desk", "parent", "adolescent"):
        assert (
            client_as(getattr(cast, persona)).post(url, {**data, "assent": "1"}).status_code == 404
        )
