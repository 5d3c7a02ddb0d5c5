"""Every URL in the project is accounted for here, and the wrong people are turned away.

The URL conf is walked, so a new view that is not listed in ``ACCESS`` fails
``test_it_knows_every_url``: add it with who may and who may not reach it.
"Denied" means 404 (no relation: existence never leaks) for a signed-in person,
and a redirect to sign-in for an anonymous one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tether.accounts.models import User
from tether.crisis.health import scheduler_beat
from tether.patients.models import Episode
from tether.testing.cast import Cast, sign_in


@dataclass(frozen=True)
class Rule:
    allowed: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    method: str = "get"
    needs_patient: bool = False  # the URL takes the cast patient's id
    public: bool = False  # reachable by anyone, signed in or not (no patient data)
    # A bearer-token API (the FHIR API): a session is never enough, so every signed-in
    # person and anyone signed out gets 401 (tether/fhir/tests test the tokens themselves).
    bearer: bool = False
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
    "healthz_live": PUBLIC,
    "healthz_background": PUBLIC,  # times and codes only (tether/crisis/health.py)
    "crisis:crisis": PUBLIC,
    "accounts:login": PUBLIC,
    "accounts:logout": PUBLIC,
    "accounts:timed_out": PUBLIC,
    "accounts:language": PUBLIC,  # POST only: a cookie, and for a signed-in person their own account
    "accounts:mfa_setup": PUBLIC,
    "accounts:mfa_verify": PUBLIC,
    # A staff member's one-time set-up link (tether/accounts/tests/test_staff_enrolment.py).
    "accounts:mfa_enrol": Rule(public=True, kwargs={"token": "not-a-real-token"}),
    "accounts:invite": Rule(public=True, kwargs={"token": "not-a-real-token"}),
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": Rule(
        public=True, kwargs={"uidb64": "MQ", "token": "set-password"}
    ),
    "accounts:password_reset_complete": PUBLIC,
    "accounts:reset_code": PUBLIC,
    # The signed-in person's own account notice (no patient id; tether/staff/tests).
    "accounts:account_notice": PUBLIC,
    # A program admin resets a colleague's two-step sign-in (tether/accounts/tests).
    "accounts:staff_two_step": Rule(
        allowed=("program_admin",), denied=tuple(p for p in EVERYONE if p != "program_admin")
    ),
    "accounts:staff_enrolment_link": Rule(
        method="post",
        allowed=("program_admin",),
        denied=tuple(p for p in EVERYONE if p != "program_admin"),
        kwargs={"staff_id": "STAFF"},
    ),
    "accounts:staff_two_step_reset": Rule(
        allowed=("program_admin",),
        denied=tuple(p for p in EVERYONE if p != "program_admin"),
        kwargs={"staff_id": "STAFF"},
    ),
    # A program admin or the privacy officer lifts a sign-in pause (tether/accounts/tests).
    "accounts:sign_in_pauses": Rule(
        allowed=("program_admin", "privacy_officer"),
        denied=tuple(p for p in EVERYONE if p not in ("program_admin", "privacy_officer")),
    ),
    # The patient's own area.
    "portal:home": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "portal:welcome": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "portal:family_home": Rule(allowed=("parent",), denied=(*STAFF, "patient", "adolescent")),
    # The patient's own record, its downloads and "send a copy" (ONC (e)(1); no id in the
    # URL: staff, family members and other patients reach only their own or a 404).
    "portal:record": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "portal:record_pdf": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "portal:record_fhir": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
    "portal:record_send": Rule(allowed=("patient",), denied=(*STAFF, "parent")),
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
    # Outreach (issue 16): the patient's own reminders, the push subscription, a
    # reminder's signed link (a forged one: 410 for the patient, 404 for everyone else).
    # Twilio's webhooks are public but answer only signed requests (403 otherwise:
    # tether/outreach/tests/test_twilio_inbound.py).
    "outreach:reminders": Rule(allowed=("patient", "adolescent"), denied=(*STAFF, "parent")),
    "outreach:push": Rule(method="post", denied=(*STAFF, "parent")),
    "outreach:link": Rule(kwargs={"token": "not-a-real-token"}, denied=(*STAFF, "parent")),
    "outreach:twilio_inbound": PUBLIC,
    "outreach:twilio_status": PUBLIC,
    # The demo's phone: only in a demo with the console backend (off here, so 404 for
    # everyone); the patient's own phone with demo on: tether/outreach/tests/test_phone.py.
    "outreach:phone": Rule(denied=(*STAFF, "parent", "patient")),
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
    # Snoozing a flag: its real rows and people are in tether/flags/tests/test_snooze.py.
    "flags:snooze": Rule(kwargs={"flag_id": "999999"}, denied=EVERYONE),
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
    # Program reports (issue 17): aggregates for clinical leads and program admins.
    "reports:dashboard": Rule(
        allowed=("clinical_lead", "program_admin"),
        denied=tuple(p for p in EVERYONE if p not in ("clinical_lead", "program_admin")),
    ),
    "reports:table_csv": Rule(
        allowed=("clinical_lead", "program_admin"),
        denied=tuple(p for p in EVERYONE if p not in ("clinical_lead", "program_admin")),
        kwargs={"table_key": "attendance-by-program"},
    ),
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
    "consent:staff_recipients": Rule(
        # (another organization's clinician adds one to their own organization's list)
        allowed=(
            "assigned_clinician",
            "unassigned_clinician",
            "clinical_lead",
            "other_org_clinician",
        ),
        denied=(*NOT_STAFF, "front_desk", "privacy_officer", "program_admin", "on_call"),
    ),
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
        allowed=("assigned_clinician",),
        denied=(
            *NOT_STAFF,
            "unassigned_clinician",
            "clinical_lead",
            "front_desk",
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
    # Sending outside the program is a disclosure: the care team only (issue 13).
    "consent:staff_measure_export": Rule(
        method="post",
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
    "consent:staff_disclosure_file": Rule(
        needs_patient=True, denied=EVERYONE, kwargs={"disclosure_id": "999999"}
    ),
    # The utilization-review packet (issue 17): releasing it is a disclosure, the care
    # team only; a released packet's PDF is tested with real rows in tether/consent/tests.
    "consent:staff_ur_packet": Rule(
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
    "consent:staff_ur_packet_pdf": Rule(
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
    "program:new": Rule(
        allowed=("program_admin",), denied=tuple(p for p in EVERYONE if p != "program_admin")
    ),
    # A program admin's staff (issue 15; real rows and POSTs in tether/organizations/tests).
    "program:staff": Rule(
        allowed=("program_admin",), denied=tuple(p for p in EVERYONE if p != "program_admin")
    ),
    "program:staff_detail": Rule(
        allowed=("program_admin",),
        denied=tuple(p for p in EVERYONE if p != "program_admin"),
        kwargs={"staff_id": "STAFF"},
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
    # The FHIR R4 API (issue 18): the CapabilityStatement and the token endpoint are open
    # (no patient data; the token endpoint takes only POSTed client assertions); the
    # resources need a bearer token, which no session gives (tether/fhir/tests).
    "fhir:metadata": PUBLIC,
    "fhir_staff:clients": Rule(
        allowed=("program_admin",), denied=tuple(p for p in EVERYONE if p != "program_admin")
    ),
    "fhir:token": PUBLIC,
    "fhir:search": Rule(bearer=True, denied=EVERYONE, kwargs={"resource_type": "Patient"}),
    "fhir:export": Rule(bearer=True, denied=EVERYONE, kwargs={"group_id": "1"}),
    "fhir:export_status": Rule(bearer=True, denied=EVERYONE, kwargs={"key": NO_DRAFT}),
    "fhir:export_file": Rule(
        bearer=True, denied=EVERYONE, kwargs={"key": NO_DRAFT, "file_type": "Patient"}
    ),
    "fhir:read": Rule(
        bearer=True, denied=EVERYONE, kwargs={"resource_type": "Patient", "resource_id": "1"}
    ),
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
        expected = 401 if rule.bearer else 404
        assert response.status_code == expected, f"{persona} reached {name}: {response.status_code}"


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
    if rule.bearer:
        assert response.status_code == 401
        return
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


# --- The POST walk: every state-changing endpoint, every wrong person, nothing changes ----
#
# Issue 13: the walk above asks who may *read*. Here every endpoint that accepts a POST
# gets a real target (a real request, thread, draft, flag, assignment, consent ... of the
# cast's patients, never a made-up id) and data a right person's request would succeed
# with, sent with a valid CSRF token (a client that enforces CSRF, the token taken from
# the cookie a GET set). Every wrong persona, and anyone signed out, must change nothing
# in the database: a digest of every table (row count and content) is taken before and
# after, leaving out only the audit trail (denials are written there on purpose), the
# sessions and the sign-in throttle. As a control, the same request by a right person
# does change the database, so the data is known to be good.


@dataclass(frozen=True)
class Post:
    allowed: tuple[str, ...]  # who may change things here (the control uses the first)
    data: Callable[[World], dict[str, str]] = lambda world: {}
    kwargs: Callable[[World], dict[str, str]] = lambda world: {}
    control: bool = True  # False: the right person's data is not built here (say why)
    why_no_control: str = ""


@dataclass
class World:
    """Real targets for the POST walk, built from the cast."""

    cast: Cast
    ids: dict[str, int | str]

    def __getitem__(self, key: str) -> str:
        return str(self.ids[key])


CARE = ("assigned_clinician",)
FOLLOW_UP = ("assigned_clinician", "clinical_lead", "on_call")
PATIENTS = ("patient", "other_patient", "adolescent")  # endpoints with no id: their own


def _maria(world: World) -> dict[str, str]:
    return {"patient_id": world["maria"]}


def _maria_program_today(world: World) -> str:
    """Today where Maria's program is: a discharge "today" by the server's UTC date is in
    the program's future for some hours of every night (the service refuses it)."""
    episode = Episode.objects.select_related("program").filter(patient_id=world["maria"]).last()
    assert episode is not None
    program = episode.program
    return timezone.now().astimezone(program.tzinfo).date().isoformat()


def _in_a_week() -> str:
    return (timezone.localdate() + dt.timedelta(days=7)).isoformat()


def _consent_form(world: World) -> dict[str, str]:
    return {
        "recipient": world["pcp"],
        "category": "mental_health",
        "description": "Attendance and a progress summary",
        "purpose": "TREAT",
        "expires_on": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
        "signature_name": "Maria Garcia",
        "agree": "on",
        "patient_confirmation": "in_person",
        "identity_document": "drivers_license",
    }


def _safety_plan_form() -> dict[str, str]:
    """Every step must be posted (a missing one is refused); one filled in."""
    from tether.safetyplan.models import STEP_FIELDS

    return {"based_on": "0", **dict.fromkeys(STEP_FIELDS, ""), "warning_signs": "Not sleeping"}


POSTS: dict[str, Post] = {
    "accounts:staff_enrolment_link": Post(
        allowed=("program_admin",), kwargs=lambda w: {"staff_id": w["dana_staff"]}
    ),
    "accounts:sign_in_pauses": Post(
        allowed=("program_admin", "privacy_officer"),
        data=lambda w: {"user": w["on_call_user"]},
        control=False,
        why_no_control=(
            "a lift deletes django-axes rows and writes an audit event, both unwatched "
            "here (tether/accounts/tests/test_lockout.py proves the lift)"
        ),
    ),
    "accounts:staff_two_step_reset": Post(
        allowed=("program_admin",),
        kwargs=lambda w: {"staff_id": w["dana_staff"]},
        data=lambda w: {"reason": w["reset_reason"], "note": "Lost phone", "confirm": "on"},
    ),
    "crisis:urgent_request": Post(allowed=PATIENTS),
    "crisis:staff_request_acknowledge": Post(
        allowed=FOLLOW_UP, kwargs=lambda w: {"request_id": w["urgent"]}
    ),
    "crisis:staff_request_close": Post(
        allowed=FOLLOW_UP,
        kwargs=lambda w: {"request_id": w["urgent"]},
        data=lambda w: {
            "contact_method": "phone",
            "outcome": "safe_plan",
            "safety_plan_reviewed": "on",
            "next_step": "Group tomorrow",
        },
    ),
    "crisis:program_settings": Post(
        allowed=("program_admin",),
        data=lambda w: {
            "program": w["iop"],
            "action": "lines",
            "crisis_line": "413-555-0199",  # a number that can be dialled (E.164 stored)
            "after_hours_line": "413-555-0198",
        },
    ),
    "portal:welcome": Post(
        allowed=("patient",), control=False, why_no_control="the cast has seen the welcome"
    ),
    # The confirmed step of "send a copy": one RecordTransmission row, one mail.
    "portal:record_send": Post(
        allowed=PATIENTS,
        data=lambda w: {
            "channel": "email",
            "address": "me@example.org",
            "format": "pdf",
            "confirm": "send",
        },
    ),
    "staff:patient_create": Post(
        allowed=(
            "assigned_clinician",
            "unassigned_clinician",
            "clinical_lead",
            "front_desk",
            "program_admin",
        ),
        data=lambda w: {
            "program": w["iop"],
            "first_name": "New",
            "last_name": "Person",
            "date_of_birth": "1991-02-03",
            "record_number": "MRN-NEW-1",
            "level_of_care": "iop",
            "admitted_on": timezone.localdate().isoformat(),
        },
    ),
    # Both refuse an account in use without the patient's own confirmation (their own
    # tests: tether/staff/tests/test_account_takeover.py); here, who may ask at all.
    "staff:invite_create": Post(
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        kwargs=_maria,
        control=False,
        why_no_control=(
            "the cast patient's account is in use, so an invite is refused by design; a new "
            "patient's invite is in tether/staff/tests/test_account_takeover.py"
        ),
    ),
    "staff:reset_code_issue": Post(
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        kwargs=_maria,
        data=lambda w: {"confirmation": "in_person", "identity_document": "drivers_license"},
    ),
    "privacy:audit_report": Post(
        allowed=("privacy_officer", "clinical_lead"),
        control=False,
        why_no_control="a search: it changes nothing for anyone (a redirect with the filters)",
    ),
    # Clinicians not on the care team (the lead and on-call have no Part 2 or writes).
    "privacy:break_glass": Post(
        allowed=("unassigned_clinician", "clinical_lead", "on_call"),
        kwargs=_maria,
        data=lambda w: {
            "reason": "crisis_contact",
            "explanation": "The patient called in crisis and the team is out.",
        },
    ),
    # Each staff member marks their own notifications read.
    "notifications:mark_read": Post(allowed=("on_call", *STAFF)),
    "messaging:send": Post(
        allowed=PATIENTS, data=lambda w: {"body": "Hello team", "idempotency_key": str(uuid4())}
    ),
    "messaging:family_send": Post(
        allowed=("parent",),
        kwargs=lambda w: {"patient_id": w["jordan"]},
        data=lambda w: {"body": "Hello team", "idempotency_key": str(uuid4())},
    ),
    "messaging:staff_reply": Post(
        allowed=CARE,
        kwargs=lambda w: {"thread_id": w["thread"]},
        data=lambda w: {"body": "We will call you", "idempotency_key": str(uuid4())},
    ),
    "messaging:staff_note": Post(
        allowed=CARE,
        kwargs=lambda w: {"thread_id": w["thread"]},
        data=lambda w: {"note": "Called back"},
    ),
    "messaging:crisis_phrases": Post(
        allowed=("clinical_lead", "program_admin"),
        data=lambda w: {"program": w["iop"], "phrase": "walk into the river"},
    ),
    # The adult IOP's schedule: each patient of that program starts their own check-in.
    "checkins:start": Post(
        allowed=("other_patient", "patient"), kwargs=lambda w: {"schedule_id": w["schedule"]}
    ),
    "checkins:question": Post(
        allowed=("patient",),
        kwargs=lambda w: {"key": w["draft"], "position": "1"},
        data=lambda w: {"answer": "2"},
    ),
    "checkins:finish": Post(
        allowed=("patient",),
        kwargs=lambda w: {"key": w["draft"]},
        control=False,
        why_no_control="finishing needs every answer first (tether/checkins/tests)",
    ),
    "safety_plan:edit": Post(allowed=PATIENTS, data=lambda w: _safety_plan_form()),
    "safety_plan:staff_edit": Post(allowed=CARE, kwargs=_maria, data=lambda w: _safety_plan_form()),
    "homework:patient_step": Post(
        allowed=("patient",),
        kwargs=lambda w: {"assignment_id": w["assignment"], "step": "1"},
        control=False,
        why_no_control="each library exercise has its own fields (tether/homework/tests)",
    ),
    "homework:patient_review": Post(
        allowed=("patient",), kwargs=lambda w: {"assignment_id": w["assignment"]}
    ),
    "homework:staff_assign": Post(
        allowed=CARE,
        kwargs=_maria,
        data=lambda w: {"template": "dbt_diary_card", "due_on": _in_a_week(), "note": "Daily"},
    ),
    "homework:staff_assign_group": Post(
        allowed=CARE,
        kwargs=lambda w: {"appointment_id": w["group"]},
        data=lambda w: {"template": "dbt_diary_card", "due_on": _in_a_week(), "note": "Daily"},
    ),
    "homework:staff_feedback": Post(
        allowed=CARE,
        kwargs=lambda w: {"patient_id": w["maria"], "assignment_id": w["assignment"]},
        data=lambda w: {"feedback": "Well done"},
    ),
    # No id: each patient signs their own consent (naming any recipient of the organization).
    "consent:patient_new": Post(allowed=PATIENTS, data=_consent_form),
    "consent:patient_family": Post(
        allowed=("patient",),
        data=lambda w: {"proxy": w["maria_proxy"], "scope": "attendance", "granted": "0"},
    ),
    "consent:patient_revoke": Post(
        allowed=("patient",), kwargs=lambda w: {"consent_id": w["consent"]}
    ),
    "consent:device": Post(
        allowed=PATIENTS, control=False, why_no_control="a cookie on the device, no row"
    ),
    "consent:unlock": Post(
        allowed=PATIENTS, control=False, why_no_control="the session only, no row"
    ),
    "consent:show_part2": Post(
        allowed=PATIENTS, control=False, why_no_control="the session only, no row"
    ),
    "consent:patient_amendments": Post(
        allowed=PATIENTS,
        data=lambda w: {"about": "My date of birth", "correction": "It is 17 May"},
    ),
    "consent:staff_amendments": Post(
        allowed=CARE,
        kwargs=_maria,
        data=lambda w: {"amendment": w["amendment"], f"a{w['amendment']}-decision": "accept"},
    ),
    "consent:staff_family": Post(
        allowed=CARE,
        kwargs=lambda w: {"patient_id": w["jordan"]},
        data=lambda w: {
            "proxy": w["jordan_proxy"],
            "scope": "family_updates",
            "granted": "1",
            "assent": "1",
        },
    ),
    "consent:staff_consent_new": Post(
        allowed=("assigned_clinician",),
        kwargs=_maria,
        data=_consent_form,
    ),
    "consent:staff_recipients": Post(
        # Recipients are named by the people who send updates to them (RECIPIENT_ROLES).
        # (another organization's clinician adds one to their own organization's list)
        allowed=(
            "assigned_clinician",
            "unassigned_clinician",
            "clinical_lead",
            "other_org_clinician",
        ),
        data=lambda w: {"name": "Dr. New", "recipient_organization": "Clinic", "kind": "other"},
    ),
    "consent:staff_measure_export": Post(
        allowed=CARE, kwargs=_maria, data=lambda w: {"export-recipient": w["pcp"]}
    ),
    "consent:staff_coordination": Post(
        allowed=CARE,
        kwargs=_maria,
        data=lambda w: {"recipient": w["pcp"], "kind": "progress_summary", "content": "Doing well"},
    ),
    "consent:staff_ur_packet": Post(
        allowed=CARE,
        kwargs=_maria,
        data=lambda w: {
            "recipient": w["pcp"],
            "period_start": (timezone.localdate() - dt.timedelta(days=14)).isoformat(),
            "period_end": timezone.localdate().isoformat(),
            "summary": "Needs IOP for two more weeks",
        },
        control=False,
        why_no_control=(
            "a packet needs a payer and the patient's consents naming it for three "
            "categories (tether/consent/tests/test_ur_packet.py proves the release)"
        ),
    ),
    "family:staff_updates": Post(
        allowed=CARE,
        kwargs=lambda w: {"patient_id": w["jordan"]},
        data=lambda w: {"body": "Jordan came to every group this week."},
    ),
    "family:assignment_step": Post(
        allowed=("parent",),
        kwargs=lambda w: {
            "patient_id": w["jordan"],
            "assignment_id": w["family_assignment"],
            "step": "1",
        },
        control=False,
        why_no_control="each library exercise has its own fields (tether/family/tests)",
    ),
    "flags:act": Post(
        allowed=FOLLOW_UP,
        kwargs=lambda w: {"flag_id": w["flag"]},
        data=lambda w: {"step": "acknowledge"},
    ),
    "flags:snooze": Post(
        allowed=FOLLOW_UP,
        kwargs=lambda w: {"flag_id": w["flag"]},
        data=lambda w: {"until": _in_a_week(), "reason": "Away this week, back Monday"},
    ),
    "flags:rule_edit": Post(
        allowed=("clinical_lead", "program_admin"),
        kwargs=lambda w: {"rule_id": w["rule"]},
        data=lambda w: {"threshold": "6", "window_days": "14", "severity": "2", "enabled": "on"},
    ),
    # Issue 15: the schedule, admission to discharge, families, program set-up.
    "scheduling:attendance": Post(
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        kwargs=lambda w: {"appointment_id": w["meeting"]},
        data=lambda w: {f"mark-{w['maria']}": "late"},
    ),
    "scheduling:session_detail": Post(
        allowed=("front_desk", "clinical_lead", "program_admin", "assigned_clinician"),
        kwargs=lambda w: {"appointment_id": w["next_meeting"]},
        data=lambda w: {"action": "cancel", "reason": "other"},
    ),
    "scheduling:series_detail": Post(
        allowed=("front_desk", "clinical_lead", "assigned_clinician"),
        kwargs=lambda w: {"series_id": w["series"]},
        data=lambda w: {"action": "remove", "patient": w["maria"]},
    ),
    "scheduling:series_new": Post(
        allowed=("front_desk", "clinical_lead", "program_admin"),
        data=lambda w: {
            "program": w["iop"],
            "title": "Weekend group",
            "weekdays": "2",
            "starts_at_time": "18:00",
            "minutes": "90",
            "first_day": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
            "last_day": (timezone.localdate() + dt.timedelta(days=9)).isoformat(),
            "facilitator": w["uri_staff"],
            "location": "Room 99",
        },
    ),
    "scheduling:book": Post(
        allowed=("assigned_clinician", "clinical_lead", "front_desk"),
        kwargs=_maria,
        data=lambda w: {
            "kind": "individual",
            "day": (timezone.localdate() + dt.timedelta(days=5)).isoformat(),
            "starts_at_time": _clear_of_the_daily_group(w, hours=3),
            "minutes": "50",
            "clinician": w["uri_staff"],
            "location": "Office 99",
        },
    ),
    "scheduling:import": Post(
        allowed=("front_desk", "clinical_lead"),
        data=lambda w: {
            "program": w["iop"],
            "step": "import",
            "format": "csv",
            "content": base64.b64encode(
                (
                    "record_number,date,start,minutes,kind,clinician_email,room,video_link\n"
                    f"MRN-maria.g,{timezone.localdate() + dt.timedelta(days=6)},"
                    f"{_clear_of_the_daily_group(w, hours=4)},50,"
                    "individual,uri.clinician@example.org,Office 98,\n"
                ).encode()
            ).decode(),
        },
    ),
    "patients:care": Post(
        allowed=("assigned_clinician",),
        kwargs=_maria,
        data=lambda w: {
            "action": "discharge",
            "discharged_on": _maria_program_today(w),
            "reason": "completed",
            "next_appointments": "Outpatient therapy",
            "keeps_safety_plan": "on",
        },
    ),
    "family:staff_members": Post(
        allowed=("assigned_clinician",),
        kwargs=_maria,
        data=lambda w: {
            "action": "invite",
            "first_name": "Rosa",
            "last_name": "Garcia",
            "relationship": "spouse",
            "email": "rosa.walk@example.net",
            "scopes": "attendance",
            "patient_agreed": "on",
        },
    ),
    "family:patient_end": Post(allowed=("patient",), data=lambda w: {"proxy": w["maria_proxy"]}),
    "program:setup": Post(
        allowed=("program_admin",),
        data=lambda w: {
            "program": w["iop"],
            "action": "add_shift",
            "staff_member": w["uri_staff"],
            "starts_at": (timezone.localdate() + dt.timedelta(days=1)).isoformat() + "T17:00",
            "ends_at": (timezone.localdate() + dt.timedelta(days=2)).isoformat() + "T09:00",
        },
    ),
    "program:new": Post(
        allowed=("program_admin",),
        data=lambda w: {
            "name": "Walk IOP",
            "kind": "iop",
            "time_zone": "America/Chicago",
            "crisis_line": "413-555-0142",
            "office_opens_at": "09:00",
            "office_closes_at": "17:00",
            "office_days": "0",
        },
    ),
    "program:staff": Post(
        allowed=("program_admin",),
        data=lambda w: {
            "first_name": "Nia",
            "last_name": "Newhire",
            "email": "nia.walk@example.org",
            "role": "front_desk",
            "programs": w["iop"],
        },
    ),
    "program:staff_detail": Post(
        allowed=("program_admin",),
        kwargs=lambda w: {"staff_id": w["uri_staff"]},
        data=lambda w: {"action": "role", "role": "clinical_lead", "programs": w["iop"]},
    ),
    "program:care_team": Post(
        allowed=("clinical_lead",),
        kwargs=_maria,
        data=lambda w: {
            "action": "assign",
            "staff_member": w["uri_staff"],
            "role": "case_manager",
        },
    ),
    # Issue 16: each patient changes only their own preferences and subscriptions.
    "outreach:reminders": Post(
        allowed=PATIENTS,
        data=lambda w: {
            "sms_phone": "413-555-0142",
            "by_sms": "on",
            "checkin_due": "on",
            "quiet_from": "21:00",
            "quiet_until": "08:00",
        },
    ),
    "outreach:push": Post(
        allowed=PATIENTS,
        data=lambda w: {
            "endpoint": "https://push.example/send/abc",
            "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
            "auth": "tBHItJI5svbpez7KI4CCXg",
        },
    ),
    "outreach:phone": Post(
        allowed=PATIENTS,
        data=lambda w: {"action": "reply", "body": "7"},
        control=False,
        why_no_control=(
            "the demo's phone exists only with TETHER_DEMO and the console backend; the "
            "patient's own reply: tether/outreach/tests/test_phone.py"
        ),
    ),
    # Registering a FHIR client (issue 18; tether/fhir/tests/test_clients.py).
    "fhir_staff:clients": Post(
        allowed=("program_admin",),
        data=lambda w: {
            "program": w["iop"],
            "recipient": w["pcp"],
            "jwks": _public_jwks(),
            "scopes": "system/Patient.read",
        },
    ),
    # The FHIR API's inbound Appointment (POST [type]): a bearer-token API, so no
    # session is ever allowed (401); the EHR's own writes are tested with tokens in
    # tether/fhir/tests/test_inbound.py.
    "fhir:search": Post(
        allowed=(),
        kwargs=lambda w: {"resource_type": "Appointment"},
        control=False,
        why_no_control="a bearer-token API: tether/fhir/tests/test_inbound.py",
    ),
}


def _clear_of_the_daily_group(world: Any, *, hours: int) -> str:
    """A clock time (HH:MM, the program's zone) the world's daily group never covers: it
    meets from an hour ago for 90 minutes every day, and a patient on its roster cannot be
    booked into a second session at the same time (issue 15). A fixed time would clash
    whenever the suite happened to run at that hour."""
    from tether.organizations.models import Program

    tz = Program.objects.get(pk=world["iop"]).tzinfo
    return (timezone.now().astimezone(tz) + dt.timedelta(hours=hours)).strftime("%H:%M")


def _public_jwks() -> str:
    import json

    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-384", private=True, auto_kid=True)
    return json.dumps({"keys": [key.as_dict(private=False)]})


# POST endpoints of the signed-out flows (sign-in, two-step, password reset, invitation):
# no one is a "wrong person" there; their own tests cover them (tether/accounts/tests).
PUBLIC_POSTS = frozenset(
    {
        "accounts:login",
        "accounts:logout",
        "accounts:mfa_setup",
        "accounts:mfa_verify",
        "accounts:invite",
        "accounts:password_reset",
        "accounts:password_reset_confirm",
        "accounts:reset_code",
        # The signed-in person's own notice that their password was reset ("I have read
        # it"): no patient and no one else's record; tether/staff/tests.
        "accounts:account_notice",
        # The language switch: a cookie, and for a signed-in person their own account's
        # language only (no id taken); tether/accounts/tests/test_language.py.
        "accounts:language",
        # Twilio's webhooks (issue 16): signed by Twilio, not by a person; a wrong or
        # missing signature is a 403 that stores nothing (tether/outreach/tests).
        "outreach:twilio_inbound",
        "outreach:twilio_status",
        # The FHIR token endpoint: a system's signed client assertion, no session, no
        # person (tether/fhir/tests/test_api.py: forged, expired, replayed assertions).
        "fhir:token",
    }
)


HTTP = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _accepts_post(callback: Callable[..., object]) -> bool:
    """Whether a view handles POST (its source mentions it, or it is a class with post)."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    wrapper: Callable[..., object] | None = callback
    while wrapper is not None:  # ``require_GET`` and friends: the methods are listed
        for cell in getattr(wrapper, "__closure__", None) or ():
            methods = cell.cell_contents
            if isinstance(methods, list) and methods and all(m in HTTP for m in methods):
                return "POST" in methods
        wrapper = getattr(wrapper, "__wrapped__", None)
    function = inspect.unwrap(callback)
    source = inspect.getsource(function)
    # One level of the module's own helper the view hands the request to (``return _edit(``).
    for helper in re.findall(r"return\s+(_\w+)\(\s*request\b", source):
        target = function.__globals__.get(helper)
        if inspect.isfunction(target):
            source += inspect.getsource(target)
    return "POST" in source


def _callbacks(patterns, prefix: str = "") -> dict[str, Callable[..., object]]:
    found: dict[str, Callable[..., object]] = {}
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            found.update(_callbacks(entry.url_patterns, namespace))
        elif isinstance(entry, URLPattern) and entry.name is not None:
            found[prefix + entry.name] = entry.callback
    return found


def test_the_post_walk_knows_every_post_endpoint():
    posting = {n for n, cb in _callbacks(get_resolver().url_patterns).items() if _accepts_post(cb)}
    missing = sorted(posting - set(POSTS) - PUBLIC_POSTS)
    stale = sorted((set(POSTS) | PUBLIC_POSTS) - posting)
    assert not missing, f"POST endpoints with no entry in POSTS (add one): {missing}"
    assert not stale, f"POSTS lists endpoints that take no POST: {stale}"
    print(f"\nPOST walk: {len(POSTS)} endpoints walked, {len(PUBLIC_POSTS)} signed-out flows")


@pytest.fixture
def world(cast: Cast) -> World:
    from tether.accounts.models import TwoStepReset
    from tether.checkins.models import ProgramInstrument, Response
    from tether.checkins.sync import sync_instruments
    from tether.consent.models import Recipient
    from tether.consent.services import amendment_request, consent_sign
    from tether.crisis.services import urgent_contact_raise
    from tether.flags.models import Flag, FlagRule
    from tether.flags.services import flags_sweep
    from tether.homework.library import builtin_library
    from tether.homework.services import assignment_create
    from tether.messaging.services import message_send_by_patient
    from tether.notifications.models import Notification
    from tether.patients.models import Episode, Proxy
    from tether.privacy.models import Purpose
    from tether.privacy.policy import Category
    from tether.scheduling.models import Appointment, Attendance

    maria = cast.patient.patient
    jordan = cast.adolescent.patient
    now = timezone.now()
    sync_instruments()
    schedule = ProgramInstrument.objects.create(
        organization=cast.organization, program=cast.iop, instrument_code="phq9", schedule="daily"
    )
    client = Client()
    sign_in(client, cast.patient)
    client.post(reverse("checkins:start", args=[schedule.pk]))
    draft = Response.objects.get(patient=maria)
    Proxy.objects.filter(patient=jordan).update(scope_messaging=True, scope_family_assignments=True)
    maria_proxy = Proxy.objects.create(
        organization=cast.organization,
        patient=maria,
        user=User.objects.create_user(
            username="luis.g",
            password="x" * 20,
            kind=User.Kind.PROXY,
            organization=cast.organization,
        ),
        relationship=Proxy.Relationship.PARENT,
    )
    pcp = Recipient.objects.create(
        organization=cast.organization,
        name="Dr. Rivera",
        recipient_organization="Main Street Clinic",
        kind=Recipient.Kind.PRIMARY_CARE,
    )
    for category in (Category.MENTAL_HEALTH, Category.SELF_REPORT):
        consent = consent_sign(
            patient=maria,
            signed_by=cast.patient,
            recipient=pcp,
            category=category,
            description="Attendance and a progress summary",
            purpose=Purpose.TREATMENT,
            discloser="Riverbend",
            expires_on=timezone.localdate() + dt.timedelta(days=90),
            signature_name="Maria Garcia",
        )
    library = builtin_library()
    assignment = assignment_create(
        patient=maria,
        definition=library["thought_record"],
        assigned_by=cast.assigned_clinician,
        due_on=timezone.localdate() + dt.timedelta(days=3),
    )
    family_assignment = assignment_create(
        patient=jordan,
        definition=library["thought_record"],
        assigned_by=cast.assigned_clinician,
        due_on=timezone.localdate() + dt.timedelta(days=3),
        for_family=True,
    )
    add_phq9 = __import__("tether.flags.testing", fromlist=["add_response"]).add_response
    add_phq9(maria, "phq9", now - dt.timedelta(days=9), total=15)
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=30)).date())
    User.objects.filter(pk=cast.patient.pk).update(last_login=now - dt.timedelta(days=10))
    flags_sweep()
    flag = Flag.objects.filter(patient=maria, status=Flag.Status.OPEN).first()
    if flag is None:  # the sign-in rule is off by default since the combined rule (#21)
        flag = Flag.objects.create(
            organization_id=maria.organization_id,
            patient=maria,
            episode=maria.episodes.get(),
            kind=Flag.Kind.DISENGAGEMENT,
            severity=2,
            reason="no_login",
            source_type="patients.patient",
            source_id=maria.pk,
            raised_at=now,
        )
    group = Appointment.objects.create(
        organization=cast.organization,
        program=cast.iop,
        kind=Appointment.Kind.GROUP,
        title="Evening group",
        starts_at=now + dt.timedelta(hours=30),
        ends_at=now + dt.timedelta(hours=31),
    )
    Attendance.objects.create(
        organization=cast.organization,
        appointment=group,
        patient=maria,
        episode=Episode.objects.get(patient=maria),
    )
    urgent = urgent_contact_raise(patient=maria, source="patient_button")
    thread = message_send_by_patient(patient=maria, author=cast.patient, body="Hello").message
    Notification.objects.filter(recipient=cast.assigned_clinician).delete()
    notified = urgent_contact_raise(patient=cast.other_patient.patient, source="patient_button")
    assert notified.pk
    # The on-call clinician has an unread notification whatever the hour of the run (the
    # raise above goes to the care team in office hours, to on call after them): marking
    # read must have something to change.
    Notification.objects.get_or_create(
        organization=cast.organization,
        recipient=cast.on_call,
        kind=Notification.Kind.URGENT_REQUEST,
        urgent_request=notified,
        patient=cast.other_patient.patient,
        read_at=None,
    )
    rule = FlagRule.objects.filter(program=cast.iop).first()
    amendment = amendment_request(
        patient=maria, about="My phone", correction="555-0142", requested_by=cast.patient
    )
    from tether.scheduling.tests.conftest import current_meeting, started_group

    series = started_group(cast, patients=[cast.patient])  # issue 15: a daily group
    next_meeting = series.occurrences.filter(starts_at__gt=now).order_by("starts_at").first()
    assert next_meeting is not None
    ids: dict[str, int | str] = {
        "series": series.pk,
        "meeting": current_meeting(series).pk,
        "next_meeting": next_meeting.pk,
        "uri_staff": cast.unassigned_clinician.staff_member.pk,
        "maria": maria.pk,
        "jordan": jordan.pk,
        "iop": cast.iop.pk,
        "schedule": schedule.pk,
        "draft": str(draft.key),
        "maria_proxy": maria_proxy.pk,
        "jordan_proxy": Proxy.objects.get(patient=jordan).pk,
        "pcp": pcp.pk,
        "consent": consent.pk,
        "assignment": assignment.pk,
        "family_assignment": family_assignment.pk,
        "flag": flag.pk,
        "group": group.pk,
        "urgent": urgent.pk,
        "thread": thread.thread_id,
        "rule": rule.pk if rule is not None else 0,
        "amendment": amendment.pk,
        "dana_staff": cast.assigned_clinician.staff_member.pk,
        "on_call_user": cast.on_call.pk,
        "reset_reason": TwoStepReset.Reason.values[0],
    }
    return World(cast=cast, ids=ids)


_UNWATCHED = (
    "django_session",
    "privacy_auditevent",
    "privacy_auditpending",
    "privacy_auditseal",
    "privacy_auditchainhead",
    "axes_",
)


def _snapshot() -> dict[str, str]:
    """Every table but the audit trail, sessions and sign-in throttle: its row count and a
    digest of its content (so an update is seen, not only an insert or a delete)."""
    tables = sorted(
        t for t in connection.introspection.table_names() if not t.startswith(_UNWATCHED)
    )
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        parts = [
            f"SELECT %s, count(*)::text || ':' || "  # noqa: S608 (table names from the schema)
            f"coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {quote(t)} x"
            for t in tables
        ]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), tables)
            return {str(name): str(value) for name, value in cursor.fetchall()}
    # SQLite (make test on a fresh clone): no row-to-text aggregate, so each table's rows
    # are read and digested here (the walk's tables are small).
    digests: dict[str, str] = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 (from the schema)
            rows = sorted(repr(row) for row in cursor.fetchall())
            digest = hashlib.sha256("|".join(rows).encode()).hexdigest()
            digests[table] = f"{len(rows)}:{digest}"
    return digests


def _changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in after if before.get(t) != after[t])


def _csrf_client(user: User | None) -> tuple[Client, str]:
    """A client that enforces CSRF, signed in as ``user``, with the token a GET set."""
    http = Client(enforce_csrf_checks=True)
    http.get(reverse("accounts:login"))  # the sign-in form sets the CSRF cookie
    token = http.cookies[settings.CSRF_COOKIE_NAME].value
    if user is not None:
        sign_in(http, user)
    assert token, "no CSRF cookie"
    return http, token


def _post(name: str, world: World, user: User | None) -> tuple[int, list[str]]:
    """Sign in (before the snapshot: signing in sets ``last_login``), then POST with the
    token. The status and the tables the request changed."""
    rule = POSTS[name]
    http, token = _csrf_client(user)
    url = reverse(name, kwargs=rule.kwargs(world) or None)
    data = {**rule.data(world), "csrfmiddlewaretoken": token}
    before = _snapshot()
    response = http.post(url, data)
    return response.status_code, _changed(before, _snapshot())


@pytest.mark.parametrize("name", sorted(POSTS))
def test_a_wrong_persons_post_changes_nothing(name, world):
    rule = POSTS[name]
    wrong = [p for p in EVERYONE if p not in rule.allowed]
    failures = []
    for persona in [None, *wrong]:
        user = None if persona is None else getattr(world.cast, persona)
        status, changed = _post(name, world, user)
        if changed:
            failures.append(f"{persona or 'signed out'} ({status}) changed {changed}")
        if status == 403:
            failures.append(f"{persona or 'signed out'}: 403 (the CSRF token was refused?)")
    assert not failures, f"{name}:\n" + "\n".join(failures)


@pytest.mark.parametrize("name", sorted(n for n, r in POSTS.items() if r.control))
def test_the_right_persons_post_does_change_something(name, world):
    """The control: the walk's data is good enough to change something for a right person,
    so "nothing changed" above is not an accident of bad data. And the class of issue 13:
    a request that changes a patient's records asks the gate for the action it performs
    (create, update, export, disclose), never "view": the events it writes say so."""
    from tether.privacy.models import AuditEvent

    user = getattr(world.cast, POSTS[name].allowed[0])
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    status, changed = _post(name, world, user)
    assert status != 403, "the CSRF token was refused"
    assert changed, f"{name}: nothing changed ({status})"
    events = AuditEvent.objects.filter(pk__gt=last, actor=user, outcome="allowed")
    asked = set(events.exclude(patient=None).values_list("action", flat=True))
    assert "view" not in asked, f"{name} asked the gate for view while writing: {asked}"


def test_every_post_without_a_control_says_why():
    assert all(r.control or r.why_no_control for r in POSTS.values())
