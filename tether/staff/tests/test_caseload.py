from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tether.flags.services import flags_sweep
from tether.flags.testing import add_response
from tether.scheduling.models import Appointment, Attendance
from tether.testing.cast import make_patient
from tether.testing.queries import page_queries

URL = reverse("staff:dashboard")


def _book(user: Any, hours: float) -> None:
    _book_at(user.patient, timezone.now() + dt.timedelta(hours=hours))


def _book_at(patient: Any, starts: dt.datetime, *, cancelled: bool = False) -> None:
    episode = patient.episodes.get()
    appointment = Appointment.objects.create(
        organization=patient.organization,
        program=episode.program,
        kind=Appointment.Kind.GROUP,
        title="Group",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        is_cancelled=cancelled,
    )
    Attendance.objects.create(
        organization=patient.organization, appointment=appointment, patient=patient, episode=episode
    )


def test_it_shows_scores_with_a_trend_arrow_and_open_flags(cast, client_as):
    patient = cast.patient.patient
    now = timezone.now()
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=8)
    add_response(patient, "phq9", now - dt.timedelta(days=1), total=16)
    flags_sweep()
    body = client_as(cast.assigned_clinician).get(URL).content.decode()
    assert "Caseload" in body
    assert "16" in body and "higher than last time (worse)" in body
    assert 'class="pill pill--flag"' in body
    assert reverse("staff:review", args=[patient.pk]) in body


def test_it_puts_todays_and_tomorrows_sessions_first(cast, client_as):
    _book(cast.adolescent, hours=72)  # Kim: later this week
    _book(cast.patient, hours=20)  # Garcia: within the next day
    body = client_as(cast.assigned_clinician).get(URL).content.decode()
    assert body.index("Garcia") < body.index("Kim")
    by_name = client_as(cast.assigned_clinician).get(URL + "?sort=name").content.decode()
    assert by_name.index("Garcia") < by_name.index("Kim")  # G before K


def test_it_sorts_by_open_flags_on_the_server(cast, client_as):
    patient = cast.adolescent.patient
    now = timezone.now()
    add_response(patient, "phq9", now - dt.timedelta(days=20), total=3)
    add_response(patient, "phq9", now - dt.timedelta(days=1), total=15)
    flags_sweep()
    body = client_as(cast.assigned_clinician).get(URL + "?sort=flags").content.decode()
    assert body.index("Kim") < body.index("Garcia")
    assert 'aria-current="true">Open flags' in body


def test_it_keeps_the_plain_list_for_front_desk(cast, client_as):
    body = client_as(cast.front_desk).get(URL).content.decode()
    assert "Caseload" not in body and "PHQ-9" not in body


def test_it_costs_the_same_queries_at_two_caseload_sizes(cast, client_as):
    client = client_as(cast.clinical_lead)
    now = timezone.now()
    client.get(URL)  # the first request of a session does one-off work
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL).status_code == 200
    for index in range(30):
        user = make_patient(
            cast.organization,
            cast.iop,
            f"extra{index}",
            first_name="Extra",
            last_name=f"Patient{index}",
            clinician=cast.assigned_clinician,
        )
        add_response(user.patient, "phq9", now - dt.timedelta(days=3), total=index % 27)
    flags_sweep()
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL + "?sort=sessions")
    assert "Patient29" in response.content.decode()
    # Constant, the audit rows included (one per patient shown, in two bulk inserts).
    assert len(page_queries(large.captured_queries)) == len(page_queries(small.captured_queries))
    assert len(large.captured_queries) == len(small.captured_queries)
    print(f"\ncaseload board: {len(large.captured_queries)} queries")


def test_it_marks_high_and_safety_flags_apart_from_the_others(cast, client_as):
    from tether.flags.models import Flag, Severity

    patient = cast.patient.patient
    Flag.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=patient.episodes.get(),
        kind=Flag.Kind.SAFETY,
        severity=Severity.HIGH,
        reason=Flag.Reason.PHQ9_ITEM9,
        source_type="checkins.response",
        source_id=1,
        raised_at=timezone.now(),
    )
    body = client_as(cast.assigned_clinician).get(URL).content.decode()
    assert '<span class="pill pill--high">1 high or safety</span>' in body


def test_a_leads_board_pages_by_next_session_exactly_as_one_read_of_every_session_would(
    cast, monkeypatch
):
    """The lead's board reads the upcoming sessions up to a horizon first: every page is
    the page of the whole order — shared group times broken by name, cancelled sessions
    ignored, patients with nothing booked last — whether the horizon holds the page or not."""
    from tether.staff import caseload

    now = timezone.now()
    patients = [cast.patient.patient, cast.adolescent.patient] + [
        make_patient(
            cast.organization, cast.iop, f"horizon{i}", first_name="H", last_name=f"Hz{i:02d}"
        ).patient
        for i in range(9)
    ]
    group = now + dt.timedelta(days=1)
    for index, patient in enumerate(patients):
        if index % 4 == 3:
            continue  # nothing booked
        # Three share each group time; everyone has a later session too.
        _book_at(patient, group + dt.timedelta(hours=index // 3))
        _book_at(patient, group + dt.timedelta(days=7))
        if index % 5 == 0:  # a cancelled, earlier session does not count
            _book_at(patient, now + dt.timedelta(hours=1), cancelled=True)
    # One patient with a session every hour before anyone else's: a short horizon holds
    # only them (too few for a page).
    for hour in range(1, 13):
        _book_at(patients[3], now + dt.timedelta(minutes=30 * hour))

    def pages(limit: int, horizon: int) -> list[list[int]]:
        monkeypatch.setattr(caseload, "PER_ROW_ORDER_LIMIT", limit)
        monkeypatch.setattr(caseload, "HORIZON_ROWS_PER_PATIENT", horizon)
        found = []
        for number in range(1, 6):
            board = caseload.caseload_page(
                user=cast.clinical_lead, sort="sessions", page=number, now=now, per_page=3
            )
            found.append([row.pk for row in board.rows])
        return found

    per_patient = pages(limit=10**6, horizon=4)  # each patient's own next session
    assert sum(len(page) for page in per_patient) >= len(patients)
    for horizon in (1, 2, 4, 100):  # the horizon too short, just enough, and beyond all
        assert pages(limit=0, horizon=horizon) == per_patient


def test_a_discharged_patient_leaves_the_board_when_their_access_after_discharge_ends(
    cast, client_as
):
    # A care team keeps its access after a discharge (the record, the aftercare plan), so
    # the board itself keeps to patients in care or still inside their access window:
    # otherwise it gathers every patient the clinician ever discharged.
    from tether.patients import services
    from tether.patients.models import Episode

    patient = cast.patient.patient
    episode = patient.episodes.get()
    today = timezone.now().astimezone(episode.program.tzinfo).date()
    services.episode_discharge(
        episode=episode,
        discharged_on=today,
        reason="completed",
        next_appointments="Dr. Osei, weekly",
        who_to_call="988, or the clinic",
        keeps_safety_plan=True,
        offer_final_measures=False,
        staff=cast.assigned_clinician.staff_member,
        user=cast.assigned_clinician,
    )
    body = client_as(cast.assigned_clinician).get(URL).content.decode()
    assert "Garcia" in body  # still inside the access after discharge (30 days)
    assert "Kim" in body
    Episode.objects.filter(pk=episode.pk).update(access_until=today - dt.timedelta(days=1))
    body = client_as(cast.assigned_clinician).get(URL).content.decode()
    assert "Garcia" not in body
    assert "Kim" in body  # in care
    # The record itself is still the care team's to open (the review, through the gate).
    review = client_as(cast.assigned_clinician).get(reverse("staff:review", args=[patient.pk]))
    assert review.status_code == 200


def test_a_leads_board_by_next_session_never_lists_patients_outside_their_programs(
    cast, monkeypatch
):
    """The horizon's sessions are kept by the gate's per-row condition: patients of a
    program the lead does not lead, and patients discharged from theirs, never appear,
    however soon their sessions are."""
    from tether.organizations.models import Program
    from tether.patients.models import Episode
    from tether.staff import caseload

    now = timezone.now()
    elsewhere = Program.objects.create(
        organization=cast.organization,
        name="Evening PHP",
        kind=Program.Kind.IOP,
        crisis_line="555-0100",
    )
    outside = make_patient(cast.organization, elsewhere, "outside", first_name="O", last_name="Aaa")
    gone = make_patient(cast.organization, cast.iop, "gone", first_name="G", last_name="Aab")
    Episode.objects.filter(patient=gone.patient).update(
        status=Episode.Status.DISCHARGED, discharged_on=timezone.localdate(now)
    )
    for soon in (outside.patient, gone.patient):
        for hour in range(1, 9):  # before anyone else's session
            _book_at(soon, now + dt.timedelta(minutes=10 * hour))
    _book(cast.patient, hours=30)
    _book(cast.adolescent, hours=40)
    monkeypatch.setattr(caseload, "PER_ROW_ORDER_LIMIT", 0)  # the lead's path
    for horizon in (1, 4, 100):
        monkeypatch.setattr(caseload, "HORIZON_ROWS_PER_PATIENT", horizon)
        board = caseload.caseload_page(
            user=cast.clinical_lead, sort="sessions", page=1, now=now, per_page=2
        )
        shown = [row.pk for row in board.rows]
        assert shown == [cast.patient.patient.pk, cast.adolescent.patient.pk]
        assert outside.patient.pk not in shown and gone.patient.pk not in shown


def test_a_caseload_is_ordered_counted_and_paged_the_same_from_its_ids_as_in_sql(cast):
    """Inside a request the board orders a clinician's own caseload from its ids in one
    kept statement and counts and pages it in Python; outside one, in SQL as before.
    Every sort, every page, the count and the next sessions agree — with patients who
    share a session time, have nothing booked, are discharged past their access, carry
    flags and scores — and the ids path is the one taken."""
    from tether.flags.models import Flag, Severity
    from tether.patients.models import Episode
    from tether.privacy import gate
    from tether.staff import caseload

    now = timezone.now()
    patients = [cast.patient.patient, cast.adolescent.patient] + [
        make_patient(
            cast.organization,
            cast.iop,
            f"ids{i}",
            first_name="I",
            last_name=f"Ids{i % 3}",  # names shared: the order falls back to the id
            clinician=cast.assigned_clinician,
        ).patient
        for i in range(7)
    ]
    for index, patient in enumerate(patients):
        if index % 3 != 2:
            _book_at(patient, now + dt.timedelta(hours=2 + index // 2))
        if index % 2:
            add_response(patient, "phq9", now - dt.timedelta(days=index), total=3 * index)
        if index % 4 == 1:
            Flag.objects.create(
                organization_id=patient.organization_id,
                patient=patient,
                episode=patient.episodes.get(),
                kind=Flag.Kind.SAFETY if index == 1 else Flag.Kind.DETERIORATION,
                severity=Severity.HIGH if index == 1 else Severity.MEDIUM,
                reason=Flag.Reason.PHQ9_ITEM9,
                source_type="checkins.response",
                source_id=index,
                raised_at=now,
            )
    gone = patients[-1].episodes.get()
    Episode.objects.filter(pk=gone.pk).update(
        status=Episode.Status.DISCHARGED,
        discharged_on=gone.admitted_on,
        access_until=timezone.localdate(now) - dt.timedelta(days=1),
    )

    def board(sort: str) -> list[tuple[int, int, list[tuple[int, Any]]]]:
        pages = []
        for number in range(1, 4):  # three pages of three (and eight patients)
            page = caseload.caseload_page(
                user=cast.assigned_clinician, sort=sort, page=number, now=now, per_page=3
            )
            pages.append(
                (page.total, page.pages, [(row.pk, row.next_session_at) for row in page.rows])
            )
        return pages

    for sort in caseload.SORTS:
        in_sql = board(sort)
        with gate.decisions_once():
            from_ids = board(sort)
            taken = caseload._caseload_order(cast.assigned_clinician, sort=sort, now=now)
        assert from_ids == in_sql, sort
        assert (taken is not None) == (sort != "phq9"), sort
        assert in_sql[0][0] == len(patients) - 1, sort  # the discharged one is not shown
        shown = [pk for _, _, rows in in_sql for pk, _ in rows]
        assert gone.patient_id not in shown
        assert len(shown) == len(set(shown)) == len(patients) - 1, sort
