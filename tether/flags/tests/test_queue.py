from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.urls import reverse
from django.utils import timezone

from tether.accounts.models import User
from tether.flags.models import Flag, FlagRule
from tether.flags.services import flags_sweep, rules_ensure_defaults
from tether.flags.testing import add_response
from tether.patients.models import Episode
from tether.privacy.models import AuditEvent

URL = reverse("flags:queue")


def _cards(body: str) -> str:
    """The queue's patient cards (after the filter form, whose menus name every rule)."""
    form = body.index('id="filters-h"')
    return body[body.index("</form>", form) :]


def _silent_and_deteriorating(cast: Any) -> None:
    """Garcia stopped signing in 10 days ago; Kim's PHQ-9 rose by 9 points."""
    now = timezone.now()
    Episode.objects.update(admitted_on=(now - dt.timedelta(days=30)).date())
    User.objects.filter(kind="patient").update(last_login=now - dt.timedelta(hours=1))
    User.objects.filter(pk=cast.patient.pk).update(last_login=now - dt.timedelta(days=10))
    add_response(cast.adolescent.patient, "phq9", now - dt.timedelta(days=20), total=5)
    add_response(cast.adolescent.patient, "phq9", now - dt.timedelta(days=1), total=14)
    # The single-signal sign-in rule is off by default since the combined rule; a
    # program may still turn it on.
    rules_ensure_defaults()
    FlagRule.objects.filter(code="no_login").update(enabled=True)
    flags_sweep()


def test_it_ranks_flags_by_severity_then_age_with_the_reason(cast, client_as):
    _silent_and_deteriorating(cast)
    body = _cards(client_as(cast.clinical_lead).get(URL).content.decode())
    assert "Has not signed in to the portal for 7 days or more." in body
    assert body.index("PHQ-9 reliable deterioration") < body.index("Not signing in")
    assert "flags raised" in body


def test_it_documents_outreach_and_resolves_with_an_audit_trail(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    client = client_as(cast.clinical_lead)
    act = reverse("flags:act", args=[flag.pk])
    client.post(act, {"step": "acknowledge"})
    response = client.post(act, {"step": "resolve", "action": "called", "note": "Left a voicemail"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.action, flag.action_note) == ("closed", "called", "Left a voicemail")
    assert flag.acknowledged_by == cast.clinical_lead and flag.closed_by == cast.clinical_lead
    events = AuditEvent.objects.filter(object_type="flags.flag", object_id=str(flag.pk))
    # Raised (the flag), then two follow-up notes (acknowledged; resolved with a note):
    # the lead creates follow-up, never changes the patient's self-report.
    assert list(events.values_list("action", "category").order_by("pk")) == [
        ("create", "self_report"),
        ("create", "mental_health"),
        ("create", "mental_health"),
    ]
    assert "Has not signed in" not in client.get(URL).content.decode()


def test_it_refuses_a_double_acknowledgment_with_a_clear_message(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    act = reverse("flags:act", args=[flag.pk])
    client_as(cast.clinical_lead).post(act, {"step": "acknowledge"})
    second = client_as(cast.assigned_clinician).post(act, {"step": "acknowledge"}, follow=True)
    assert "Someone has already acknowledged this flag." in second.content.decode()
    flag.refresh_from_db()
    assert flag.acknowledged_by == cast.clinical_lead


def test_it_refuses_no_action_without_a_reason(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    response = client_as(cast.clinical_lead).post(
        reverse("flags:act", args=[flag.pk]),
        {"step": "resolve", "action": "no_action"},
        follow=True,
    )
    assert "Say why no action was needed." in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == "open"


def test_it_checks_access(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    act = reverse("flags:act", args=[flag.pk])
    for persona in ("front_desk", "program_admin", "unassigned_clinician", "other_org_clinician"):
        response = client_as(getattr(cast, persona)).post(act, {"step": "acknowledge"})
        assert response.status_code == 404, persona
    assert client_as(cast.front_desk).get(URL).status_code == 404
    other = client_as(cast.other_org_clinician).get(URL).content.decode()
    assert "Garcia" not in other
    flag.refresh_from_db()
    assert flag.acknowledged_at is None


def test_it_shows_a_craving_flag_only_to_those_who_may_see_part2(cast, client_as):
    now = timezone.now()
    User.objects.filter(kind="patient").update(last_login=now)
    # Three weeks at the usual level, then four days higher (the default window).
    for day in range(25, 0, -1):
        add_response(
            cast.patient.patient,
            "daily",
            now - dt.timedelta(days=day),
            items={"craving": 2 if day > 4 else 6},
        )
    flags_sweep()
    assert Flag.objects.filter(reason="craving_rise").count() == 1
    assert "Rising craving" in _cards(client_as(cast.assigned_clinician).get(URL).content.decode())
    assert "Rising craving" not in _cards(client_as(cast.clinical_lead).get(URL).content.decode())
    review = reverse("staff:review", args=[cast.patient.patient.pk])
    assert "Daily craving" not in client_as(cast.clinical_lead).get(review).content.decode()
    assert "Daily craving" in client_as(cast.assigned_clinician).get(review).content.decode()


def _flag(
    user: Any, *, reason: str = "phq9_item9", severity: int = 3, hours_ago: float = 1
) -> Flag:
    patient = user.patient
    return Flag.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=patient.episodes.get(),
        kind=Flag.Kind.SAFETY if reason == "phq9_item9" else Flag.Kind.DETERIORATION,
        severity=severity,
        reason=reason,
        source_type="checkins.response",
        source_id=Flag.objects.count() + 1,
        raised_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )


def test_it_groups_by_patient_with_the_review_link_and_the_phone(cast, client_as):
    from tether.patients.models import Patient

    Patient.objects.filter(pk=cast.patient.patient.pk).update(mobile_phone="555-0142")
    for hours in (1, 2, 3):
        _flag(cast.patient, hours_ago=hours)
    _flag(cast.adolescent, severity=2, reason="instrument_alert")
    body = client_as(cast.clinical_lead).get(URL).content.decode()
    assert body.count('class="card stack flag-group"') == 2
    assert "3 open flags" in body
    assert 'href="tel:555-0142"' in body
    assert reverse("staff:review", args=[cast.patient.patient.pk]) in body
    assert body.index("Garcia") < body.index("Kim")  # high before medium


def test_it_filters_by_severity_rule_clinician_age_and_patient(cast, client_as):
    _flag(cast.patient, hours_ago=1)
    _flag(cast.other_patient, severity=2, reason="instrument_alert", hours_ago=100)
    client = client_as(cast.clinical_lead)

    def names(**query: Any) -> set[str]:
        body = client.get(URL, query).content.decode()
        return {name for name in ("Garcia", "Baker") if f"{name}, " in body}

    assert names() == {"Garcia", "Baker"}
    # Each filter twice with other values: its statement is kept with the value bound.
    assert names(severity=3) == {"Garcia"}
    assert names(severity=2) == {"Baker"}
    assert names(rule="instrument_alert") == {"Baker"}
    assert names(rule="phq9_item9") == {"Garcia"}
    assert names(rule="no_such_rule") == set()
    assert names(clinician=cast.assigned_clinician.pk) == {"Garcia"}
    assert names(clinician=cast.unassigned_clinician.pk) == {"Baker"}
    assert names(age=3) == {"Baker"}
    assert names(age=7) == set()
    assert names(patient=cast.patient.patient.pk) == {"Garcia"}
    assert names(severity="nonsense", age="x", clinician="y") == {"Garcia", "Baker"}


def test_it_shows_what_is_overdue(cast, client_as, settings):
    settings.TETHER_HIGH_FLAG_ACK_HOURS = 24
    _flag(cast.patient, hours_ago=30)
    _flag(cast.adolescent, hours_ago=2)
    client = client_as(cast.clinical_lead)
    body = client.get(URL).content.decode()
    assert "1 high flag not acknowledged for more than 24 hours." in body
    assert "not acknowledged for more than 24 hours</strong>" in body
    only = client.get(URL, {"overdue": "1"}).content.decode()
    assert "Garcia, " in only and "Kim, " not in only


def test_it_pages_patients_at_a_constant_query_count(cast, client_as):
    from tether.testing.cast import make_patient

    client = client_as(cast.clinical_lead)
    _flag(cast.patient)
    client.get(URL)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    for index in range(14):
        user = make_patient(
            cast.organization, cast.iop, f"q{index}", first_name="Q", last_name=f"Zed{index:02}"
        )
        _flag(user, hours_ago=index + 2)
        _flag(user, severity=2, reason="instrument_alert", hours_ago=index + 2)
    with CaptureQueriesContext(connection) as large:
        body = client.get(URL).content.decode()
    assert len(large) == len(small)
    assert "Page 1 of 2" in body and body.count('class="card stack flag-group"') == 10
    second = client.get(URL, {"page": 2}).content.decode()
    assert second.count('class="card stack flag-group"') == 5


def test_acting_keeps_the_filters(cast, client_as):
    flag = _flag(cast.patient)
    response = client_as(cast.clinical_lead).post(
        reverse("flags:act", args=[flag.pk]),
        {"step": "acknowledge", "back": "severity=3&patient=7&evil=http://x"},
    )
    assert response["Location"] == f"{URL}?severity=3&patient=7"


def test_a_refused_resolve_keeps_the_note_and_the_choice(cast, client_as):
    _silent_and_deteriorating(cast)
    flag = Flag.objects.get(reason="no_login")
    response = client_as(cast.clinical_lead).post(
        reverse("flags:act", args=[flag.pk]),
        {"step": "resolve", "action": "", "note": "Called twice,\r\nno answer\x00"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose what was done." in body
    assert "Called twice,\nno answer</textarea>" in body
    flag.refresh_from_db()
    assert flag.status == "open"


def test_the_clinician_filter_lists_each_staff_members_own_programs_clinicians(cast):
    """The filter's list is one statement kept per process with the staff member's id
    bound: two staff members in different programs each get their own programs' active
    clinical staff, by last name, and nobody from another organization."""
    from tether.flags.selectors import clinicians_for_filter
    from tether.organizations.models import Program, StaffMember
    from tether.testing.cast import make_staff

    php = Program.objects.create(
        organization=cast.organization,
        name="Day PHP",
        kind=Program.Kind.PHP,
        crisis_line="555-0100",
    )
    only_php, gone = (
        make_staff(
            cast.organization,
            username,
            StaffMember.Role.CLINICIAN,
            [php],
            first_name=first,
            last_name=last,
        )
        for username, first, last in (("pia.php", "Pia", "Aaron"), ("gil.gone", "Gil", "Abbot"))
    )
    StaffMember.objects.filter(user=gone).update(is_active=False)

    names = [name for _, name in clinicians_for_filter(user=cast.assigned_clinician)]
    assert "Pia Aaron" not in names and "Gil Abbot" not in names
    assert {"Dana Staff", "Uri Staff", "Lee Staff", "Omar Staff"} <= set(names)
    assert "Fran Staff" not in names  # the front desk is not clinical staff
    assert clinicians_for_filter(user=only_php) == [(only_php.pk, "Pia Aaron")]
    assert cast.other_org_clinician.get_full_name() not in names


def test_two_clinicians_each_see_their_own_queue_through_one_kept_statement(cast, client_as):
    """The queue's statements are compiled once per process and shape of user, the
    user's values bound (``selectors._Queue``): a second clinician of the same shape gets
    their own patients' flags and snoozed flags, the first one's never, and no statement
    is compiled for them. Fails when a value is compiled in."""
    from django.db import connection

    from tether.lib import statements

    garcia = _flag(cast.patient)  # the assigned clinician's
    baker = _flag(cast.other_patient, severity=2, reason="instrument_alert")  # the other's
    baker_snoozed = _flag(cast.other_patient, reason="phq9_item9", hours_ago=5)
    Flag.objects.filter(pk=baker_snoozed.pk).update(
        snoozed_until=timezone.localdate() + dt.timedelta(days=3),
        snooze_reason="Seen in group today",
    )
    statements.forget()
    first = _cards(client_as(cast.assigned_clinician).get(URL).content.decode())
    kept = dict(statements._kept)
    second = _cards(client_as(cast.unassigned_clinician).get(URL).content.decode())
    assert "Garcia, " in first and "Baker, " not in first
    assert "Seen in group today" not in first
    assert "Baker, " in second and "Garcia, " not in second
    assert "Seen in group today" in second
    assert f"/flags/{garcia.pk}/" in first and f"/flags/{baker.pk}/" in second
    if connection.vendor == "postgresql":

        def queue_keys(found: dict[Any, Any]) -> set[Any]:
            return {key for key in found if str(key[0][0]).startswith("flags.")}

        # The groups, the snoozed flags, the figures: kept, and nothing new for the second.
        assert len(queue_keys(kept)) == 3 and all(kept[key] for key in queue_keys(kept))
        assert queue_keys(statements._kept) == queue_keys(kept)


def test_the_figures_are_planned_with_their_period_for_a_program_and_without_for_a_caseload(
    cast, client_as
):
    """A program's eight weeks of flags are joined by how many the period holds, so a
    lead's figures keep their values in the text PostgreSQL plans (client-side binding); a
    caseload's few flags are planned without them (lib/statements.py)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return  # (server-side binding: PostgreSQL only)
    import psycopg

    _flag(cast.patient)
    bound_by: dict[str, list[str]] = {}

    def seen(who: str, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "DATE_TRUNC" in sql and '"flags_flag"' in sql:
            client = isinstance(context["cursor"].cursor, psycopg.ClientCursor)
            bound_by.setdefault(who, []).append("client" if client else "server")
        return execute(sql, params, many, context)

    for who, user in (("lead", cast.clinical_lead), ("clinician", cast.assigned_clinician)):
        with connection.execute_wrapper(partial(seen, who)):
            body = client_as(user).get(URL).content.decode()
        assert "flags raised" in body
    assert bound_by == {"lead": ["client"], "clinician": ["server"]}
