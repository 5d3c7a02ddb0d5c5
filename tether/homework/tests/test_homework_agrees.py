"""One homework figure: the review, the board and the homework page say the same."""

from __future__ import annotations

import re

from django.urls import reverse

from tether.homework.services import assignment_complete
from tether.messaging.services import message_send_by_patient
from tether.privacy.models import AuditEvent, Purpose


def _figures(cast, client_as) -> dict[str, tuple[int, int]]:
    client = client_as(cast.assigned_clinician)
    patient = cast.patient.patient
    review = client.get(reverse("staff:review", args=[patient.pk])).content.decode()
    board = client.get(reverse("staff:dashboard")).content.decode()
    page = client.get(reverse("homework:staff_list", args=[patient.pk])).content.decode()
    garcia_row = board[board.index("Garcia") :].split("</tr>")[0]
    found = {
        "review": re.search(r"Last 28 days: (\d+) of (\d+) done,", review),
        "board": re.search(r"(\d+) of (\d+) done", garcia_row),
        "homework page": re.search(r"Last 28 days: (\d+) of (\d+) done \(", page),
    }
    return {k: (int(m.group(1)), int(m.group(2))) for k, m in found.items() if m}


def test_review_board_and_homework_page_agree(cast, client_as, assign):
    early = assign(cast.patient, "reflection", due_in_days=5)  # finished before it is due
    assignment_complete(assignment=early, actor=cast.patient, purpose=Purpose.PATIENT_REQUEST)
    on_time = assign(cast.patient, "thought_record", due_in_days=-2, starts_days_ago=6)
    assignment_complete(assignment=on_time, actor=cast.patient, purpose=Purpose.PATIENT_REQUEST)
    assign(cast.patient, "coping_skills", due_in_days=-3, starts_days_ago=10)  # overdue, open
    assign(cast.patient, "dbt_diary_card", due_in_days=6)  # not due yet, not done: not counted
    assign(
        cast.patient, "behavioral_activation", due_in_days=-40, starts_days_ago=45
    )  # before window
    figures = _figures(cast, client_as)
    assert figures == {"review": (2, 3), "board": (2, 3), "homework page": (2, 3)}


def test_the_review_shows_the_latest_lines_and_marks_the_urgent_one(cast, client_as):
    patient = cast.patient.patient
    message_send_by_patient(patient=patient, author=cast.patient, body="See you Tuesday")
    message_send_by_patient(
        patient=patient, author=cast.patient, body="Please call me", marked_urgent=True
    )
    url = reverse("staff:review", args=[patient.pk])
    page = client_as(cast.assigned_clinician).get(url).content.decode()
    assert "Latest from the patient" in page
    assert "See you Tuesday" in page and "Please call me" in page
    assert page.index("Please call me") < page.index("See you Tuesday")  # newest first
    assert "Urgent: marked urgent" in page
    assert AuditEvent.objects.filter(
        actor=cast.assigned_clinician, patient=patient, category="shared", action="view"
    ).exists()
    # The note text carries counts, never the patient's words.
    note = page[page.index('id="note-text"') :]
    assert "Please call me" not in note
    assert client_as(cast.front_desk).get(url).status_code == 404
