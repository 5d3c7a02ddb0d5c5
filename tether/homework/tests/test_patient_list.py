from __future__ import annotations

from django.urls import reverse

from tether.homework.services import assignment_complete, feedback_give
from tether.privacy.models import Purpose

URL = reverse("homework:patient_list")


def test_it_shows_what_is_due_and_what_is_done_with_feedback(cast, client_as, assign):
    assign(cast.patient, "thought_record", note="Pick Monday's moment")
    done = assign(cast.patient, "reflection")
    assignment_complete(assignment=done, actor=cast.patient, purpose=Purpose.PATIENT_REQUEST)
    feedback_give(assignment=done, author=cast.assigned_clinician, text="Lovely insight")
    body = client_as(cast.patient).get(URL).content.decode()
    assert "Thought record" in body and "Pick Monday&#x27;s moment" in body
    assert "Lovely insight" in body


def test_it_marks_late_homework(cast, client_as, assign):
    assign(cast.patient, "reflection", due_in_days=-2, starts_days_ago=5)
    assert "Late" in client_as(cast.patient).get(URL).content.decode()


def test_the_home_page_shows_homework_due(cast, client_as, assign):
    assignment = assign(cast.patient, "dbt_diary_card")
    assign(cast.other_patient, "relapse_prevention")
    body = client_as(cast.patient).get(reverse("portal:home")).content.decode()
    assert "Your homework" in body and "Diary card" in body
    assert reverse("homework:patient_step", args=[assignment.pk, 1]) in body
    assert "Relapse-prevention plan" not in body


def test_the_home_page_lists_five_and_says_more_are_waiting(cast, client_as, assign):
    from tether.homework.selectors import HOME_SHOWN

    made = [assign(cast.patient, "reflection", due_in_days=days) for days in range(1, 8)]
    body = client_as(cast.patient).get(reverse("portal:home")).content.decode()
    shown = [a for a in made if reverse("homework:patient_step", args=[a.pk, 1]) in body]
    assert shown == made[:HOME_SHOWN] == made[:5]  # the soonest due first
    assert "More homework is waiting." in body
    assert reverse("homework:patient_list") in body  # every one of them, a tap away
    listed = client_as(cast.patient).get(URL).content.decode()
    assert all(reverse("homework:patient_step", args=[a.pk, 1]) in listed for a in made)


def test_homework_left_undone_long_ago_never_hides_this_weeks(cast, client_as, assign):
    late = [
        assign(cast.patient, "reflection", due_in_days=-days, starts_days_ago=days + 7)
        for days in (200, 150, 100, 60, 30, 3)
    ]
    current = assign(cast.patient, "thought_record", due_in_days=4)
    body = client_as(cast.patient).get(reverse("portal:home")).content.decode()
    order = [current, late[5], late[4], late[3], late[2]]  # then the most recently due
    places = [body.index(reverse("homework:patient_step", args=[a.pk, 1])) for a in order]
    assert places == sorted(places)
    for hidden in late[:2]:
        assert reverse("homework:patient_step", args=[hidden.pk, 1]) not in body
    assert "More homework is waiting." in body


def test_the_home_page_says_nothing_more_when_all_are_shown(cast, client_as, assign):
    for days in range(1, 6):
        assign(cast.patient, "reflection", due_in_days=days)
    body = client_as(cast.patient).get(reverse("portal:home")).content.decode()
    assert "More homework is waiting." not in body


def test_it_keeps_a_constant_number_of_queries(cast, client_as, assign, django_assert_num_queries):
    client = client_as(cast.patient)
    assign(cast.patient)
    client.get(URL)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    for key in ("reflection", "dbt_diary_card", "coping_skills", "relapse_prevention"):
        a = assign(cast.patient, key)
        feedback_give(assignment=a, author=cast.assigned_clinician, text="ok")
    with CaptureQueriesContext(connection) as large:
        client.get(URL)
    assert len(large) == len(small)


def test_it_checks_access(cast, client_as):
    assert client_as(cast.patient).get(URL).status_code == 200
    for persona in ("parent", "assigned_clinician"):
        assert client_as(getattr(cast, persona)).get(URL).status_code == 404


def test_all_my_homework_lists_this_weeks_first_then_the_late_ones_latest_first(
    cast, client_as, assign
):
    later = assign(cast.patient, "reflection", due_in_days=20)
    soon = assign(cast.patient, "thought_record", due_in_days=2)
    long_late = assign(cast.patient, "reflection", due_in_days=-120, starts_days_ago=130)
    just_late = assign(cast.patient, "reflection", due_in_days=-1, starts_days_ago=8)
    body = client_as(cast.patient).get(URL).content.decode()
    order = [soon, later, just_late, long_late]
    places = [body.index(reverse("homework:patient_step", args=[a.pk, 1])) for a in order]
    assert places == sorted(places)
