from __future__ import annotations

from typing import Any

from django.db import connection
from django.urls import reverse

from tether.homework.models import Assignment, HomeworkAnswers
from tether.privacy.models import AuditEvent


def _step(assignment: Any, n: Any) -> Any:
    return reverse("homework:patient_step", args=[assignment.pk, n])


def test_it_walks_through_the_steps_saving_each_one(cast, client_as, assign):
    assignment = assign(cast.patient)
    client = client_as(cast.patient)
    body = client.get(_step(assignment, 1)).content.decode()
    assert "Step 1 of 5" in body and "What happened?" in body
    response = client.post(_step(assignment, 1), {"situation": "Argument at work", "then": "next"})
    assert response["Location"] == _step(assignment, 2)
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.IN_PROGRESS
    assert assignment.answers.as_dict() == {"1.situation": "Argument at work"}
    event = AuditEvent.objects.filter(object_type="homework.homeworkanswers").latest("id")
    assert (event.category, event.action) == ("self_report", "update")


def test_it_lets_the_patient_stop_and_come_back(cast, client_as, assign):
    assignment = assign(cast.patient)
    client = client_as(cast.patient)
    response = client.post(
        _step(assignment, 2), {"emotion": "Angry", "intensity_before": "7", "then": "later"}
    )
    assert response["Location"] == reverse("homework:patient_list")
    body = client.get(_step(assignment, 2)).content.decode()
    assert 'value="Angry"' in body
    assert 'value="7" class="scale" id="id_intensity_before_7" checked' in body


def test_the_last_step_leads_to_review_and_done(cast, client_as, assign):
    assignment = assign(cast.patient, "reflection")
    client = client_as(cast.patient)
    response = client.post(
        _step(assignment, 1), {"text": "It went better than I feared", "then": "next"}
    )
    review = reverse("homework:patient_review", args=[assignment.pk])
    assert response["Location"] == review
    assert "It went better than I feared" in client.get(review).content.decode()
    client.post(review)
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.DONE and assignment.completed_at


def test_it_keeps_what_was_typed_when_something_is_wrong(cast, client_as, assign):
    assignment = assign(cast.patient)
    client = client_as(cast.patient)
    response = client.post(_step(assignment, 2), {"emotion": "e" * 300, "intensity_before": "11"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "This is too long to save" in body and "e" * 300 in body
    assert "Please choose one of the numbers shown." in body
    assert not HomeworkAnswers.objects.exists()


def test_it_keeps_answers_encrypted_at_rest(cast, client_as, assign):
    assignment = assign(cast.patient, "reflection")
    client_as(cast.patient).post(_step(assignment, 1), {"text": "Very private words"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM homework_homeworkanswers")
        (stored,) = cursor.fetchone()
    assert "Very private words" not in stored


def test_it_turns_away_someone_elses_assignment_and_audits_it(cast, client_as, assign):
    theirs = assign(cast.other_patient)
    client = client_as(cast.patient)
    assert client.get(_step(theirs, 1)).status_code == 404
    assert client.post(_step(theirs, 1), {"situation": "x"}).status_code == 404
    assert client.post(reverse("homework:patient_review", args=[theirs.pk])).status_code == 404
    denied = AuditEvent.objects.filter(outcome="denied", object_type="homework.assignment")
    assert denied.count() == 3
    assert set(denied.values_list("patient_id", flat=True)) == {cast.other_patient.patient.pk}
    theirs.refresh_from_db()
    assert theirs.status == "not_started"


def test_it_returns_404_for_a_step_that_does_not_exist(cast, client_as, assign):
    assignment = assign(cast.patient, "reflection")
    assert client_as(cast.patient).get(_step(assignment, 2)).status_code == 404


def test_it_checks_access(cast, client_as, assign):
    assignment = assign(cast.patient)
    assert client_as(cast.patient).get(_step(assignment, 1)).status_code == 200
    for persona in ("parent", "assigned_clinician", "other_patient", "adolescent"):
        assert client_as(getattr(cast, persona)).get(_step(assignment, 1)).status_code == 404


def test_a_post_missing_a_text_box_is_refused_and_overwrites_nothing(cast, client_as, assign):
    assignment = assign(cast.patient)
    client = client_as(cast.patient)
    client.post(_step(assignment, 2), {"emotion": "Angry", "intensity_before": "7", "then": "next"})
    response = client.post(_step(assignment, 2), {"intensity_before": "5", "then": "next"})
    assert response.status_code in (200, 400)
    assert "did not arrive, so nothing was saved" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.answers.as_dict()["2.emotion"] == "Angry"
    assert assignment.answers.as_dict()["2.intensity_before"] == 7
