"""Every URL in the project is accounted for here, and the wrong people are turned away.

The URL conf is walked, so a new view that is not listed in ``ACCESS`` fails
``test_it_knows_every_url``: add it with who may and who may not reach it.
"Denied" means 404 (no relation: existence never leaks) for a signed-in person,
and a redirect to sign-in for an anonymous one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tether.crisis.health import scheduler_beat
from tether.testing.cast import Cast


@dataclass(frozen=True)
class Rule:
    allowed: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    method: str = "get"
    needs_patient: bool = False  # the URL takes the cast patient's id
    public: bool = False  # reachable by anyone, signed in or not (no patient data)
    kwargs: dict[str, str] = field(default_factory=dict)


STAFF = (
    "assigned_clinician",
    "unassigned_clinician",
    "clinical_lead",
    "on_call",
    "front_desk",
    "program_admin",
    "privacy_officer",
    "other_org_clinician",
)
NOT_STAFF = ("patient", "other_patient", "adolescent", "parent")
EVERYONE = STAFF + NOT_STAFF
PUBLIC = Rule(public=True)
NO_DRAFT = "00000000-0000-4000-8000-000000000000"  # a check-in key nobody has

ACCESS: dict[str, Rule] = {
    # Public: no patient data.
    "home": PUBLIC,
    "healthz": PUBLIC,
    "healthz_background": PUBLIC,  # times and codes only (tether/crisis/health.py)
    "crisis:crisis": PUBLIC,
    "accounts:login": PUBLIC,
    "accounts:logout": PUBLIC,
    "accounts:timed_out": PUBLIC,
    "accounts:mfa_setup": PUBLIC,
    "accounts:mfa_verify": PUBLIC,
    "accounts:invite": Rule(public=True, kwargs={"token": "not-a-real-token"}),
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": Rule(
        public=True, kwargs={"uidb64": "MQ", "token": "set-password"}
    ),
    "accounts:password_reset_complete": PUBLIC,
    "accounts:reset_code": PUBLIC,
    # A program admin resets a colleague's two-step sign-in (tether/accounts/tests).
    "accounts:staff_two_step": Rule(
        allowed=("program_admin",), denied=tuple(p for p in EVERYONE if p != "program_admin")
    ),
    "accounts:staff_two_step_reset": Rule(
        allowed=("program_admin",),
        denied=tuple(p for p in EVERYONE if p != "program_admin"),
        kwargs={"staff_id": "STAFF"},
    ),
    # The patient's own area.
    "portal:home": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "portal:welcome": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "portal:family_home": Rule(allowed=("parent",), denied=(*STAFF, "patient", "adolescent")),
    "privacy:who_viewed": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    # Check-ins and measures (issue 4). A draft's key belongs to one patient: an
    # unknown key (or another patient's) is a 404 for everyone, the patient included.
    "checkins:progress": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "checkins:start": Rule(
        method="post", kwargs={"schedule_id": "999999"}, denied=(*STAFF, "parent")
    ),
    "checkins:resume": Rule(kwargs={"key": NO_DRAFT}, denied=(*STAFF, "parent", "patient")),
    "checkins:question": Rule(
        kwargs={"key": NO_DRAFT, "position": "1"}, denied=(*STAFF, "parent", "patient")
    ),
    "checkins:support": Rule(
        kwargs={"key": NO_DRAFT, "position": "1"}, denied=(*STAFF, "parent", "patient")
    ),
    "checkins:finish": Rule(kwargs={"key": NO_DRAFT}, denied=(*STAFF, "parent", "patient")),
    "checkins:done": Rule(kwargs={"key": NO_DRAFT}, denied=(*STAFF, "parent", "patient")),
    # The staff area.
    "staff:dashboard": Rule(allowed=STAFF, denied=NOT_STAFF),
    "staff:patient_create": Rule(
        allowed=("assigned_clinician", "clinical_lead", "front_desk", "program_admin"),
        denied=(*NOT_STAFF, "on_call", "privacy_officer"),
    ),
    "staff:review": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "flags:queue": Rule(
        allowed=("assigned_clinician", "unassigned_clinician", "clinical_lead", "on_call"),
        denied=(*NOT_STAFF, "front_desk", "program_admin", "privacy_officer"),
    ),
    "flags:act": Rule(method="post", kwargs={"flag_id": "999999"}, denied=EVERYONE),
    # A program's flag rules: its clinical lead and program admin. One rule's page is
    # tested with real rows (and another program's lead) in tether/flags/tests.
    "flags:rules": Rule(
        allowed=("clinical_lead", "program_admin"),
        denied=(
            *NOT_STAFF,
            "assigned_clinician",
            "unassigned_clinician",
            "on_call",
            "front_desk",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "flags:rule_edit": Rule(kwargs={"rule_id": "999999"}, denied=EVERYONE),
    "staff:patient_detail": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call", "front_desk", "program_admin"),
        denied=(*NOT_STAFF, "unassigned_clinician", "privacy_officer", "other_org_clinician"),
    ),
    "checkins:staff_measures": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "staff:invite_create": Rule(
        needs_patient=True,
        method="post",
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "privacy_officer",
            "other_org_clinician",
            "on_call",
        ),
    ),
    "staff:reset_code_issue": Rule(
        needs_patient=True,
        method="post",
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "privacy_officer",
            "other_org_clinician",
            "on_call",
        ),
    ),
    # Privacy.
    "privacy:audit_report": Rule(
        allowed=("privacy_officer", "clinical_lead"),
        denied=(*NOT_STAFF, "assigned_clinician", "front_desk", "other_org_clinician"),
    ),
    "privacy:audit_report_csv": Rule(
        allowed=("privacy_officer", "clinical_lead"),
        denied=(*NOT_STAFF, "assigned_clinician", "front_desk", "other_org_clinician"),
    ),
    # A staff member's own notifications (break-glass alerts). Marking read is a POST
    # that redirects, so nobody "reaches" it with a 200; the wrong people get a 404.
    "notifications:list": Rule(allowed=STAFF, denied=NOT_STAFF),
    "notifications:mark_read": Rule(method="post", denied=NOT_STAFF),
    # Crisis pathway and messages (issue 6). One request or thread is tested with real
    # rows in tether/crisis/tests and tether/messaging/tests; a made-up id reaches nobody.
    "crisis:urgent_request": Rule(method="post", denied=(*STAFF, "parent")),
    "crisis:urgent_status": Rule(denied=EVERYONE, kwargs={"request_id": "999999"}),
    "crisis:staff_requests": Rule(allowed=STAFF, denied=NOT_STAFF),
    "crisis:staff_request": Rule(denied=EVERYONE, kwargs={"request_id": "999999"}),
    "crisis:staff_request_acknowledge": Rule(
        method="post", denied=EVERYONE, kwargs={"request_id": "999999"}
    ),
    "crisis:staff_request_close": Rule(
        method="post", denied=EVERYONE, kwargs={"request_id": "999999"}
    ),
    "messaging:thread": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "messaging:send": Rule(method="post", denied=(*STAFF, "parent")),
    # The family thread: a proxy with the messaging scope, for their own family member only
    # (tested with real rows in tether/messaging/tests/test_family_thread.py).
    "messaging:family_thread": Rule(needs_patient=True, denied=EVERYONE),
    "messaging:family_send": Rule(needs_patient=True, method="post", denied=EVERYONE),
    "messaging:inbox": Rule(allowed=STAFF, denied=NOT_STAFF),
    "messaging:staff_thread": Rule(denied=EVERYONE, kwargs={"thread_id": "999999"}),
    "messaging:staff_reply": Rule(method="post", denied=EVERYONE, kwargs={"thread_id": "999999"}),
    "messaging:staff_note": Rule(method="post", denied=EVERYONE, kwargs={"thread_id": "999999"}),
    # Program admins: crisis lines and closed days (tether/crisis/tests/test_program_settings.py).
    "crisis:program_settings": Rule(
        allowed=("program_admin",), denied=tuple(p for p in EVERYONE if p != "program_admin")
    ),
    "messaging:crisis_phrases": Rule(
        allowed=("clinical_lead", "program_admin"),
        denied=(*NOT_STAFF, "assigned_clinician", "on_call", "front_desk", "privacy_officer"),
    ),
    # The safety plan (issue 5): the patient's own pages and the care team's pages.
    "safety_plan:service_worker": PUBLIC,
    "safety_plan:manifest": PUBLIC,
    "safety_plan:view": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "safety_plan:edit": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "safety_plan:offline_copy": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "safety_plan:staff_view": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "safety_plan:staff_edit": Rule(
        needs_patient=True,
        allowed=("assigned_clinician",),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "clinical_lead",
            "on_call",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    # Homework (issue 5). Pages of one assignment are tested with real rows in
    # tether/homework/tests; here a made-up id must not be reachable by anyone.
    "homework:patient_list": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "homework:patient_step": Rule(denied=EVERYONE, kwargs={"assignment_id": "999999", "step": "1"}),
    "homework:patient_review": Rule(denied=EVERYONE, kwargs={"assignment_id": "999999"}),
    "homework:staff_list": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "homework:staff_assign": Rule(
        needs_patient=True,
        allowed=("assigned_clinician",),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "clinical_lead",
            "on_call",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "homework:staff_detail": Rule(
        needs_patient=True, denied=EVERYONE, kwargs={"assignment_id": "999999"}
    ),
    "homework:staff_assign_group": Rule(denied=EVERYONE, kwargs={"appointment_id": "999999"}),
    "homework:staff_feedback": Rule(
        needs_patient=True, method="post", denied=EVERYONE, kwargs={"assignment_id": "999999"}
    ),
    # Consent and care coordination (issue 8). Pages of one consent or disclosure are
    # tested with real rows in tether/consent/tests.
    "consent:patient_list": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "consent:patient_new": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "consent:patient_family": Rule(allowed=("patient", "adolescent"), denied=(*STAFF, "parent")),
    "consent:patient_detail": Rule(denied=EVERYONE, kwargs={"consent_id": "999999"}),
    "consent:patient_revoke": Rule(method="post", denied=EVERYONE, kwargs={"consent_id": "999999"}),
    "consent:staff_recipients": Rule(allowed=("assigned_clinician",), denied=NOT_STAFF),
    "consent:patient_amendments": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "consent:device": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "consent:quick_view": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "consent:unlock": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "consent:show_part2": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "consent:staff_family": Rule(
        needs_patient=True,
        allowed=("assigned_clinician",),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "clinical_lead",
            "on_call",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "consent:staff_consent_new": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "on_call",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "consent:staff_amendments": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "consent:staff_coordination": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "consent:staff_disclosure": Rule(
        needs_patient=True, denied=EVERYONE, kwargs={"disclosure_id": "999999"}
    ),
    # Consent PDFs and exports (a real consent's access is tested in tether/consent/tests).
    "consent:patient_pdf": Rule(denied=EVERYONE, kwargs={"consent_id": "999999"}),
    "consent:staff_consent_pdf": Rule(
        needs_patient=True, denied=EVERYONE, kwargs={"consent_id": "999999"}
    ),
    "consent:staff_measure_export": Rule(
        method="post",
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "consent:staff_disclosure_file": Rule(
        needs_patient=True, denied=EVERYONE, kwargs={"disclosure_id": "999999"}
    ),
    # Family content (issue 8): updates for families and family-therapy assignments.
    # One assignment is tested with real rows in tether/family/tests.
    "family:staff_updates": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "on_call"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "family:patient_updates": Rule(allowed=("patient", "adolescent"), denied=(*STAFF, "parent")),
    "family:assignment": Rule(
        needs_patient=True, denied=EVERYONE, kwargs={"assignment_id": "999999"}
    ),
    # A family member's own part of a family assignment (real rows: tether/family/tests).
    "family:assignment_step": Rule(
        needs_patient=True, denied=EVERYONE, kwargs={"assignment_id": "999999", "step": "1"}
    ),
    # Family members (issue 15): invited and removed by the care team; an adult patient
    # ends access they granted (real rows: tether/family/tests/test_members.py).
    "family:staff_members": Rule(
        needs_patient=True,
        allowed=("assigned_clinician",),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "clinical_lead",
            "on_call",
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "family:patient_end": Rule(method="post", denied=(*STAFF, "parent", "patient")),
    # Program set-up (issue 15; real rows and POSTs in tether/organizations/tests).
    "program:setup": Rule(
        allowed=("program_admin",), denied=tuple(p for p in EVERYONE if p != "program_admin")
    ),
    "program:care_team": Rule(
        needs_patient=True,
        allowed=("clinical_lead", "program_admin"),
        denied=(
            *NOT_STAFF,
            "assigned_clinician",
            "unassigned_clinician",
            "on_call",
            "front_desk",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "privacy:break_glass": Rule(
        needs_patient=True,
        allowed=("unassigned_clinician",),
        denied=(
            *NOT_STAFF,
            "front_desk",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    # The schedule (issue 15). One group, session and roster are tested with real rows
    # (and the wrong people posting) in tether/scheduling/tests; a made-up id reaches nobody.
    "scheduling:week": Rule(
        allowed=tuple(p for p in STAFF if p != "privacy_officer"),
        denied=(*NOT_STAFF, "privacy_officer"),
    ),
    "scheduling:series_new": Rule(
        allowed=("front_desk", "clinical_lead", "program_admin"),
        denied=(
            *NOT_STAFF,
            "assigned_clinician",
            "unassigned_clinician",
            "on_call",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "scheduling:import": Rule(
        allowed=("front_desk", "clinical_lead"),
        denied=(
            *NOT_STAFF,
            "assigned_clinician",
            "unassigned_clinician",
            "on_call",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "scheduling:series_detail": Rule(denied=EVERYONE, kwargs={"series_id": "999999"}),
    "scheduling:session_detail": Rule(denied=EVERYONE, kwargs={"appointment_id": "999999"}),
    "scheduling:attendance": Rule(
        method="post", denied=EVERYONE, kwargs={"appointment_id": "999999"}
    ),
    "scheduling:book": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "on_call",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "scheduling:my_sessions": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    # Admission to discharge (issue 15; POSTs as the wrong people in tether/patients/tests).
    "patients:care": Rule(
        needs_patient=True,
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "on_call",
            "program_admin",
            "privacy_officer",
            "other_org_clinician",
        ),
    ),
    "patients:aftercare": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
}


def _walk(patterns, prefix: str = "") -> list[str]:
    names: list[str] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names.extend(_walk(entry.url_patterns, namespace))
        elif isinstance(entry, URLPattern):
            if entry.name is None:
                names.append(f"{prefix}<unnamed {entry.pattern}>")
            else:
                names.append(prefix + entry.name)
    return names


def test_it_knows_every_url():
    names = set(_walk(get_resolver().url_patterns))
    missing = sorted(names - set(ACCESS))
    stale = sorted(set(ACCESS) - names)
    assert not missing, f"URLs with no access rule (add them to ACCESS with a test): {missing}"
    assert not stale, f"ACCESS lists URLs that no longer exist: {stale}"


def _url(name: str, rule: Rule, cast: Cast) -> str:
    kwargs = dict(rule.kwargs)
    if rule.needs_patient:
        kwargs["patient_id"] = str(cast.patient.patient.pk)
    if kwargs.get("staff_id") == "STAFF":  # a colleague of the program admin
        kwargs["staff_id"] = str(cast.assigned_clinician.staff_member.pk)
    return reverse(name, kwargs=kwargs or None)


PROTECTED = sorted(name for name, rule in ACCESS.items() if not rule.public)


@pytest.mark.parametrize("name", PROTECTED)
def test_it_turns_away_the_wrong_people(name, cast, client_as):
    rule = ACCESS[name]
    url = _url(name, rule, cast)
    for persona in rule.denied:
        client = client_as(getattr(cast, persona))
        response = getattr(client, rule.method)(url)
        assert response.status_code == 404, f"{persona} reached {name}: {response.status_code}"


@pytest.mark.parametrize("name", PROTECTED)
def test_it_lets_the_right_people_in(name, cast, client_as):
    rule = ACCESS[name]
    url = _url(name, rule, cast)
    for persona in rule.allowed:
        client = client_as(getattr(cast, persona))
        response = getattr(client, rule.method)(url)
        assert response.status_code == 200, (
            f"{persona} could not reach {name}: {response.status_code}"
        )
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", PROTECTED)
def test_it_sends_anonymous_people_to_sign_in(name, cast, client):
    rule = ACCESS[name]
    response = getattr(client, rule.method)(_url(name, rule, cast))
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("accounts:login"))


def test_every_persona_is_covered_somewhere():
    covered = {p for rule in ACCESS.values() for p in (*rule.allowed, *rule.denied)}
    assert covered >= set(EVERYONE)


JUNK = {
    "username": "x" * 5000,
    "password": "\x00null byte",
    "code": "'; DROP TABLE",
    "patient": "-1",
    "date_from": "2026-02-31",
    "next": "https://evil.example/",
    "program": "999999",
}


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_it_never_answers_junk_with_a_server_error(name, cast, client_as, client):
    rule = ACCESS[name]
    url = _url(name, rule, cast)
    if name == "healthz_background":
        scheduler_beat()  # 503 is its designed answer when background work has stopped
    people = [None, "patient", "parent", "front_desk", "assigned_clinician", "privacy_officer"]
    for persona in people:
        http = client if persona is None else client_as(getattr(cast, persona))
        if persona is None:
            http.logout()
        for response in (http.get(url, JUNK), http.post(url, JUNK)):
            assert response.status_code < 500, f"{persona} got {response.status_code} on {name}"
