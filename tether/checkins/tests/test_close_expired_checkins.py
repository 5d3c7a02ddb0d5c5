from __future__ import annotations

import datetime as dt
from io import StringIO

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tether.checkins.models import ProgramInstrument, Response


def test_it_closes_abandoned_drafts_as_incomplete_and_keeps_their_answers(measures_on, client_as):
    cast = measures_on
    client = client_as(cast.patient)
    schedule = ProgramInstrument.objects.get(program=cast.iop, instrument_code="phq9")
    client.post(reverse("checkins:start", args=[schedule.pk]))
    draft = Response.objects.get()
    for position in (1, 2):
        client.post(
            reverse("checkins:question", kwargs={"key": draft.key, "position": position}),
            {"answer": "2"},
        )
    out = StringIO()
    call_command("close_expired_checkins", stdout=out)
    assert "closed 0" in out.getvalue()  # still open this week
    Response.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    call_command("close_expired_checkins", stdout=out)
    assert "closed 1" in out.getvalue()
    draft.refresh_from_db()
    assert (draft.status, draft.total) == ("incomplete", None)
    assert draft.answers.count() == 2
    page = client_as(cast.assigned_clinician).get(
        reverse("checkins:staff_measures", args=[cast.patient.patient.pk])
    )
    assert "1 response not finished (not scored)" in page.content.decode()
