from __future__ import annotations

from django.urls import reverse

from tether.patients.models import Proxy
from tether.privacy.models import AuditEvent
from tether.scheduling.models import Attendance

URL = reverse("portal:family_home")


def test_it_shows_the_parent_their_childs_sessions_and_attendance(cast, client_as, book):
    book(cast.adolescent, days=1, title="Teen skills group")
    book(cast.adolescent, days=-2, title="Family session", status=Attendance.Status.ATTENDED)
    body = client_as(cast.parent).get(URL).content.decode()
    assert "Jordan" in body
    assert "Teen skills group" in body
    assert "Family session: Attended" in body


def test_it_shows_nothing_of_other_patients(cast, client_as, book):
    book(cast.patient, title="Maria's group")
    body = client_as(cast.parent).get(URL).content.decode()
    assert "Maria" not in body


def test_it_stops_showing_the_child_when_the_proxy_is_ended(cast, client_as, book):
    book(cast.adolescent, title="Teen skills group")
    Proxy.objects.filter(user=cast.parent).update(is_active=False)
    body = client_as(cast.parent).get(URL).content.decode()
    assert "Teen skills group" not in body
    assert "No one has shared their information with you yet." in body


def test_it_records_the_family_look_as_acting_for_the_patient(cast, client_as):
    client_as(cast.parent).get(URL)
    event = AuditEvent.objects.filter(actor=cast.parent).latest("id")
    assert event.patient_id == cast.adolescent.patient.pk
    assert (event.acting_as, event.purpose) == ("proxy", "FAMRQT")


def test_it_checks_access(cast, client_as):
    assert client_as(cast.parent).get(URL).status_code == 200
    for persona in ("patient", "adolescent", "assigned_clinician", "other_org_clinician"):
        assert client_as(getattr(cast, persona)).get(URL).status_code == 404, persona


def test_it_offers_the_parent_only_links_they_can_use(cast, client_as):
    body = client_as(cast.parent).get(URL).content.decode()
    assert reverse("portal:family_home") in body
    for name in ("checkins:progress", "messaging:thread", "safety_plan:view", "portal:home"):
        assert f'href="{reverse(name)}"' not in body, name


def test_it_shows_family_assignments_and_updates_only_with_their_scopes(cast, client_as):
    import datetime as dt

    from django.utils import timezone

    from tether.family.services import family_update_send
    from tether.homework.library import builtin_library
    from tether.homework.services import assignment_create
    from tether.testing.family import grant

    assignment_create(
        patient=cast.adolescent.patient,
        definition=builtin_library()["family_what_helps"],
        assigned_by=cast.assigned_clinician,
        due_on=timezone.localdate() + dt.timedelta(days=5),
        for_family=True,
    )
    family_update_send(
        patient=cast.adolescent.patient,
        author=cast.assigned_clinician,
        body="Jordan joined in every group this week.",
    )
    client = client_as(cast.parent)
    body = client.get(URL).content.decode()
    assert "What helps at home (family)" not in body
    assert "Jordan joined in every group this week." not in body
    grant(cast, Proxy.Scope.FAMILY_ASSIGNMENTS)
    body = client.get(URL).content.decode()
    assert "What helps at home (family)" in body
    assert "Jordan joined in every group this week." not in body
    grant(cast, Proxy.Scope.FAMILY_UPDATES)
    body = client.get(URL).content.decode()
    assert "Jordan joined in every group this week." in body


def test_it_reads_the_family_page_in_a_fixed_number_of_queries(cast, client_as, book):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tether.testing.family import grant

    grant(cast, *Proxy.Scope.values)
    book(cast.adolescent, days=1)
    client = client_as(cast.parent)
    client.get(URL)  # first request of the session: the audit chain's head is created
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for days in (2, 3, -1, -3, -5):
        book(cast.adolescent, days=days)
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).status_code == 200
    # One audited look for the page, then the gate's decision for every scope at once.
    print(f"\nfamily page: {len(many)} queries")
    assert len(few) == len(many) <= 20


def test_one_visit_is_one_audited_look_whatever_it_shows(cast, client_as):
    """The page is read through the gate once (audited); what it shows is the gate's
    decision per scope. So the teen's "who looked at my record" counts one visit once."""
    from tether.testing.family import grant

    grant(cast, *Proxy.Scope.values)
    client_as(cast.parent).get(URL)
    events = AuditEvent.objects.filter(actor=cast.parent, outcome="allowed")
    assert events.count() == 1
    assert (events.get().category, events.get().purpose) == ("general", "FAMRQT")
