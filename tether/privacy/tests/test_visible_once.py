"""Inside one GET request (``gate.decisions_once``) a person's own patients are read once
as ids; a program's stay a subquery; the next request reads them afresh."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tether.patients.models import CareTeamMember
from tether.privacy.gate import decisions_once, patients_visible_to
from tether.privacy.policy import Category


def _ids(user: Any, category: Category = Category.SELF_REPORT) -> set[int]:
    return set(patients_visible_to(user, category=category).values_list("pk", flat=True))


def test_a_clinicians_caseload_is_read_once_per_request_and_afresh_the_next(cast):
    clinician = cast.assigned_clinician
    outside = _ids(clinician)
    assert outside  # the cast's patients on this clinician's care team
    with decisions_once():
        with CaptureQueriesContext(connection) as first:
            assert _ids(clinician) == outside
        with CaptureQueriesContext(connection) as second:
            assert _ids(clinician) == outside
            visible_sql = str(patients_visible_to(clinician, category=Category.SELF_REPORT).query)
        # The first use read the ids and then the rows; later uses only the rows, by id.
        assert len(first) == len(second) + 1
        assert "careteam" not in visible_sql.lower()
        # Taken off the care team during the request: this request keeps what it read.
        CareTeamMember.objects.filter(staff_member=clinician.staff_member).delete()
        assert _ids(clinician) == outside
    with decisions_once():  # the next request
        assert _ids(clinician) == set()


def test_a_leads_program_stays_one_subquery(cast):
    lead = cast.clinical_lead
    with decisions_once():
        with CaptureQueriesContext(connection) as used:
            visible = _ids(lead)
        sql = str(patients_visible_to(lead, category=Category.SELF_REPORT).query)
    assert len(visible) >= 2
    assert len(used) == 1  # no read of thousands of ids first
    assert "patients_episode" in sql
