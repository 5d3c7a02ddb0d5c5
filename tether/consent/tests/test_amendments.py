from __future__ import annotations

from django.urls import reverse

from tether.consent.models import Amendment


def _request(client_as, cast) -> Amendment:
    client_as(cast.patient).post(
        reverse("consent:patient_amendments"),
        {"about": "My date of birth is wrong", "correction": "It is May 18, 1990"},
    )
    return Amendment.objects.get()


def test_a_patient_requests_and_staff_accept(cast, client_as):
    amendment = _request(client_as, cast)
    url = reverse("consent:staff_amendments", args=[cast.patient.patient.pk])
    client = client_as(cast.assigned_clinician)
    assert "My date of birth is wrong" in client.get(url).content.decode()
    client.post(url, {"amendment": amendment.pk, f"a{amendment.pk}-decision": "accept"})
    amendment.refresh_from_db()
    assert amendment.status == Amendment.Status.ACCEPTED
    page = client_as(cast.patient).get(reverse("consent:patient_amendments")).content.decode()
    assert "Accepted and added to your record" in page


def test_a_denial_needs_a_reason_which_is_appended(cast, client_as):
    amendment = _request(client_as, cast)
    url = reverse("consent:staff_amendments", args=[cast.patient.patient.pk])
    client = client_as(cast.assigned_clinician)
    response = client.post(url, {"amendment": amendment.pk, f"a{amendment.pk}-decision": "deny"})
    assert "Give the reason for the denial." in response.content.decode()
    client.post(
        url,
        {
            "amendment": amendment.pk,
            f"a{amendment.pk}-decision": "deny",
            f"a{amendment.pk}-note": "Matches the ID you showed at intake",
        },
    )
    amendment.refresh_from_db()
    assert amendment.status == Amendment.Status.DENIED
    page = client_as(cast.patient).get(reverse("consent:patient_amendments")).content.decode()
    assert "Matches the ID you showed at intake" in page
    assert "My date of birth is wrong" in page


def test_it_checks_access(cast, client_as):
    amendment = _request(client_as, cast)
    url = reverse("consent:staff_amendments", args=[cast.patient.patient.pk])
    for persona in ("unassigned_clinician", "front_desk", "patient", "parent"):
        response = client_as(getattr(cast, persona)).post(
            url, {"amendment": amendment.pk, f"a{amendment.pk}-decision": "accept"}
        )
        assert response.status_code == 404
    amendment.refresh_from_db()
    assert amendment.status == Amendment.Status.REQUESTED
    other = client_as(cast.other_patient).get(reverse("consent:patient_amendments"))
    assert "My date of birth is wrong" not in other.content.decode()
