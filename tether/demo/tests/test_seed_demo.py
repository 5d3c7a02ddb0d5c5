from __future__ import annotations

import datetime as dt
import itertools
import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import Invite, User
from tether.demo import roster
from tether.demo.logins import DEMO_LOGINS, DEMO_PASSWORD, LOGINS_FILE, login_table
from tether.demo.stories import STORIES, Story, username_for
from tether.organizations.models import Organization, Program, StaffMember
from tether.patients.models import CareTeamMember, Episode, LevelOfCareChange, Patient, Proxy
from tether.scheduling.models import Appointment, Attendance

ATTENDED = {Attendance.Status.ATTENDED, Attendance.Status.LATE}
NEW_YORK = "America/New_York"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_settings(settings):
    settings.DEBUG = False
    settings.TETHER_DEMO = True
    # The demo runs with staff two-step sign-in off (make demo), so demo staff have no device.
    settings.TETHER_STAFF_MFA_REQUIRED = False
    return settings


@pytest.fixture
def seeded(db, demo_settings) -> str:
    return seed()


def story_patient(story: Story) -> Patient:
    return Patient.objects.select_related("user").get(user__username=username_for(story))


def story_user(story: Story) -> User:
    return User.objects.get(username=username_for(story))


def last_login(user: User) -> dt.datetime:
    assert user.last_login is not None
    return user.last_login


def past_attendance(patient: Patient) -> list[Attendance]:
    return list(
        Attendance.objects.filter(patient=patient, appointment__ends_at__lte=timezone.now())
        .select_related("appointment")
        .order_by("appointment__starts_at")
    )


def attended_share(rows: list[Attendance]) -> float:
    return sum(row.status in ATTENDED for row in rows) / len(rows)


def test_it_builds_a_clinic_of_about_thirty_patients(seeded):
    organization = Organization.objects.get(slug=roster.ORGANIZATION_SLUG)
    assert organization.name == "Riverbend Behavioral Health"
    assert Patient.objects.filter(organization=organization).count() == 30
    assert Episode.objects.filter(status=Episode.Status.ACTIVE).count() == 25
    reasons = set(
        Episode.objects.filter(status=Episode.Status.DISCHARGED).values_list(
            "discharge_reason", flat=True
        )
    )
    assert {Episode.DischargeReason.COMPLETED, Episode.DischargeReason.STOPPED_ATTENDING} <= reasons
    assert LevelOfCareChange.objects.filter(from_level="php", to_level="iop").count() >= 3


def test_it_gives_every_program_its_own_numbers_and_time_zone(seeded):
    programs = list(Program.objects.all())
    assert {p.name for p in programs} >= {"Adult IOP", "Adult PHP", "Adolescent IOP"}
    numbers = []
    for program in programs:
        assert program.time_zone == NEW_YORK
        numbers += [program.crisis_line, program.after_hours_line, program.main_line]
    assert all(re.fullmatch(r"\d{3}-555-01\d\d", number) for number in numbers)
    assert len(set(numbers)) == len(numbers)
    assert [p.name for p in programs if p.treats_substance_use] == ["Recovery IOP"]


def test_it_uses_only_fictional_phone_numbers_for_patients(seeded):
    phones = list(Patient.objects.exclude(mobile_phone="").values_list("mobile_phone", flat=True))
    assert phones
    assert all(re.fullmatch(r"\d{3}-555-01\d\d", phone) for phone in phones)


def test_it_staffs_the_clinic_with_every_role(seeded):
    staff = list(StaffMember.objects.select_related("user").prefetch_related("programs"))
    roles = [member.role for member in staff]
    assert 3 <= roles.count(StaffMember.Role.CLINICIAN) <= 4
    for role in StaffMember.Role:
        assert role in roles
    for member in staff:
        assert member.user.kind == User.Kind.STAFF
        assert member.user.organization_id == member.organization_id
        assert member.programs.exists()
    titles = {member.title for member in staff if member.role == StaffMember.Role.CLINICIAN}
    assert {"LCSW", "LPC", "PsyD"} <= titles


def test_it_gives_every_patient_a_care_team(seeded):
    for episode in Episode.objects.filter(status=Episode.Status.ACTIVE):
        roles = set(
            CareTeamMember.objects.filter(episode=episode, ended_on__isnull=True).values_list(
                "role", flat=True
            )
        )
        assert CareTeamMember.Role.PRIMARY_THERAPIST in roles


def test_it_makes_the_demo_clinician_the_story_patients_therapist(seeded):
    for story in [Story.IMPROVING, Story.DETERIORATING, Story.SILENT, Story.ADOLESCENT]:
        assert CareTeamMember.objects.filter(
            episode__patient=story_patient(story),
            episode__status=Episode.Status.ACTIVE,
            staff_member__user__username="demo.clinician",
            role=CareTeamMember.Role.PRIMARY_THERAPIST,
            ended_on__isnull=True,
        ).exists()


def test_it_tells_the_improving_story(seeded):
    patient, user = story_patient(Story.IMPROVING), story_user(Story.IMPROVING)
    assert user.username == "demo.patient"
    rows = past_attendance(patient)
    assert len(rows) >= 20
    assert attended_share(rows) >= 0.8
    episode = patient.episodes.get()
    assert episode.status == Episode.Status.ACTIVE
    assert episode.program.name == "Adult IOP"
    assert episode.level_changes.get().from_level == "php"
    assert user.has_seen_welcome
    assert timezone.now() - last_login(user) < dt.timedelta(days=1)


def test_it_tells_the_deteriorating_story(seeded):
    rows = past_attendance(story_patient(Story.DETERIORATING))
    two_weeks_ago = timezone.now() - dt.timedelta(days=14)
    before = [row for row in rows if row.appointment.starts_at < two_weeks_ago]
    recent = [row for row in rows if row.appointment.starts_at >= two_weeks_ago]
    assert attended_share(before) >= 0.8
    assert attended_share(recent) <= 0.5
    assert [row.status for row in rows[-2:]] == [Attendance.Status.ABSENT] * 2


def test_it_tells_the_silent_story(seeded):
    patient = story_patient(Story.SILENT)
    nine_days_ago = timezone.now() - dt.timedelta(days=9)
    rows = past_attendance(patient)
    assert attended_share([row for row in rows if row.appointment.starts_at < nine_days_ago]) > 0.5
    assert not [
        row for row in rows if row.appointment.starts_at >= nine_days_ago and row.status in ATTENDED
    ]
    assert last_login(story_user(Story.SILENT)) < nine_days_ago
    # Still enrolled: the clinic expects them back.
    assert patient.episodes.get().status == Episode.Status.ACTIVE
    assert Attendance.objects.filter(
        patient=patient,
        status=Attendance.Status.SCHEDULED,
        appointment__starts_at__gt=timezone.now(),
    ).exists()


def test_it_gives_the_adolescent_a_parent_for_them_only(seeded):
    teen = story_patient(Story.ADOLESCENT)
    assert story_user(Story.ADOLESCENT).username == "demo.teen"
    assert 15 <= teen.age_on(timezone.localdate()) <= 16
    assert teen.episodes.get().program.kind == Program.Kind.ADOLESCENT_IOP
    parent = User.objects.get(username="demo.parent")
    assert parent.kind == User.Kind.PROXY
    proxy = Proxy.objects.get(user=parent)  # one patient only
    assert proxy.patient == teen
    assert proxy.relationship == Proxy.Relationship.PARENT
    assert proxy.is_legal_guardian


def test_it_treats_the_substance_use_patient_in_a_part_2_program(seeded):
    episode = story_patient(Story.SUBSTANCE_USE).episodes.get()
    assert episode.program.treats_substance_use


def test_it_leaves_one_invite_pending(seeded):
    user = story_user(Story.INVITE_PENDING)
    assert not user.has_usable_password()
    assert not user.has_seen_welcome
    assert user.last_login is None
    assert Invite.objects.get(user=user).is_usable()


def test_it_registers_every_story_person(seeded):
    assert set(User.objects.filter(username__in=STORIES).values_list("username", flat=True)) == set(
        STORIES
    )


@pytest.mark.parametrize("username", [login.username for login in DEMO_LOGINS])
def test_it_lets_every_demo_login_sign_in(seeded, username):
    request = RequestFactory().post(reverse("accounts:login"))
    user = authenticate(request, username=username, password=DEMO_PASSWORD)
    assert user is not None and user.username == username
    assert authenticate(request, username=username, password="wrong password") is None


def test_it_uses_a_password_the_validators_accept(seeded):
    for login in DEMO_LOGINS:
        validate_password(DEMO_PASSWORD, User.objects.get(username=login.username))


def test_it_hashes_the_password_once_for_everyone(seeded):
    hashes = set(User.objects.exclude(password__startswith="!").values_list("password", flat=True))
    assert len(hashes) == 1


def test_it_schedules_sessions_in_program_time(seeded):
    now = timezone.now()
    expected = {
        "Adult PHP": ({0, 1, 2, 3, 4}, dt.time(9, 0)),
        "Adult IOP": ({0, 2, 3}, dt.time(18, 0)),
        "Adolescent IOP": ({1, 3}, dt.time(16, 0)),
    }
    for name, (weekdays, starts) in expected.items():
        groups = Appointment.objects.filter(program__name=name, kind=Appointment.Kind.GROUP)
        assert groups.filter(starts_at__lt=now - dt.timedelta(days=28)).exists()
        for appointment in groups:
            local = appointment.starts_at.astimezone(appointment.program.tzinfo)
            assert local.weekday() in weekdays
            assert local.time() == starts


def test_it_books_the_next_two_weeks(seeded):
    now = timezone.now()
    upcoming = Attendance.objects.filter(appointment__starts_at__gt=now)
    assert set(upcoming.values_list("status", flat=True)) == {Attendance.Status.SCHEDULED}
    last_booked = upcoming.order_by("-appointment__starts_at").first()
    assert last_booked is not None
    latest = last_booked.appointment.starts_at
    # Two weeks ahead, give or take a weekend and a holiday.
    assert dt.timedelta(days=10) < latest - now <= dt.timedelta(days=15)
    assert not upcoming.filter(episode__status=Episode.Status.DISCHARGED).exists()
    for episode in Episode.objects.filter(status=Episode.Status.ACTIVE):
        assert upcoming.filter(patient_id=episode.patient_id).exists()
    assert upcoming.filter(appointment__kind=Appointment.Kind.INDIVIDUAL).exists()


def test_it_never_double_books_a_clinician(seeded):
    by_clinician: dict[int | None, list[Appointment]] = {}
    for appointment in Appointment.objects.order_by("starts_at"):
        by_clinician.setdefault(appointment.clinician_id, []).append(appointment)
    for appointments in by_clinician.values():
        for earlier, later in itertools.pairwise(appointments):
            assert later.starts_at >= earlier.ends_at


def test_it_does_not_crash_when_run_twice(seeded):
    output = seed()
    assert "already" in output
    assert Organization.objects.filter(slug=roster.ORGANIZATION_SLUG).count() == 1
    assert Patient.objects.count() == 30


def test_it_builds_the_same_clinic_each_time(seeded):
    def snapshot() -> list[object]:
        return [
            (a.patient.record_number, a.appointment.starts_at, a.status)
            for a in Attendance.objects.select_related("patient", "appointment").order_by(
                "patient__record_number", "appointment__starts_at"
            )
        ] + list(Patient.objects.order_by("record_number").values_list("date_of_birth", flat=True))

    first = snapshot()
    seed("--reset")
    assert snapshot() == first


def _is_postgres_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(cursor.fetchone()[0])


def test_it_resets_a_demo_that_has_been_used(seeded, client_as):
    old = Organization.objects.get(slug=roster.ORGANIZATION_SLUG)
    clinician = User.objects.get(username="demo.clinician")
    patient = story_patient(Story.IMPROVING)
    # Looking at a record writes to the append-only audit trail.
    url = reverse("staff:patient_detail", args=[patient.pk])
    assert client_as(clinician).get(url).status_code == 200
    if connection.vendor == "postgresql" and not _is_postgres_superuser():
        with pytest.raises(CommandError, match="append-only"):
            seed("--reset")
        return
    seed("--reset")
    assert not Organization.objects.filter(pk=old.pk).exists()
    assert Organization.objects.filter(slug=roster.ORGANIZATION_SLUG).count() == 1
    assert Patient.objects.count() == 30


def test_it_refuses_without_debug_or_demo_setting(db, settings):
    settings.DEBUG = False
    settings.TETHER_DEMO = False
    with pytest.raises(CommandError, match="Refusing"):
        seed()
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def test_it_runs_anywhere_with_force(db, settings):
    settings.DEBUG = False
    settings.TETHER_DEMO = False
    seed("--force")
    assert Patient.objects.count() == 30


def test_it_prints_the_logins_as_written_in_logins_md(seeded):
    table = login_table()
    assert table in seeded
    assert "http://127.0.0.1:8000" in table
    assert table in LOGINS_FILE.read_text(encoding="utf-8")
    for login in DEMO_LOGINS:
        assert f"| {login.username} " in table


def test_it_shows_the_demo_clinician_their_caseload(seeded, client_as):
    response = client_as(User.objects.get(username="demo.clinician")).get(
        reverse("staff:dashboard")
    )
    assert response.status_code == 200
    body = response.content.decode()
    for last_name in ["Thompson", "Lawson", "Brooks", "Chen", "Morales"]:
        assert last_name in body
    assert "Sullivan" not in body  # another clinician's patient
    assert "7 patients you can see" in body


def test_it_gives_the_parent_a_family_assignment_an_update_and_a_thread(seeded, client_as):
    parent = User.objects.get(username="demo.parent")
    body = client_as(parent).get(reverse("portal:family_home")).content.decode()
    assert "What helps at home (family)" in body
    assert "Riley came to every group session this week" in body
    assert "Message the care team" in body
    assert "Check-ins and questionnaires" in body  # listed under what they cannot see


def test_it_shows_the_parents_own_part_of_the_family_assignment(seeded, client_as):
    from tether.family.models import FamilyAnswers

    part = FamilyAnswers.objects.get(author__username="demo.parent")
    url = reverse("family:assignment", args=[part.assignment.patient_id, part.assignment_id])
    page = client_as(User.objects.get(username="demo.parent")).get(url).content.decode()
    assert "Sunday breakfast together" in page
    assert "Change your part of step 1" in page and "Write your part of step 2" in page


def test_it_prints_the_address_it_is_served_on(seeded, settings):
    # make demo sets SITE_URL from HOST and PORT; e-mail links use the same setting.
    settings.SITE_URL = "http://0.0.0.0:8123"
    assert "Open http://0.0.0.0:8123 and sign in." in seed()
