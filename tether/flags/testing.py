"""Builders for flag tests and the simulator: plain ORM rows, dated explicitly."""

from __future__ import annotations

import datetime as dt

from tether.checkins.models import Answer, Instrument, Response
from tether.checkins.sync import sync_instruments
from tether.patients.models import Patient
from tether.privacy.gate import record_category_for
from tether.privacy.policy import Category


def add_response(
    patient: Patient,
    code: str,
    when: dt.datetime,
    *,
    total: int | None = None,
    items: dict[str, int] | None = None,
) -> Response:
    """A complete response of ``code`` submitted at ``when`` with these item values."""
    instrument = Instrument.objects.filter(code=code, is_current=True).first()
    if instrument is None:
        sync_instruments()
        instrument = Instrument.objects.get(code=code, is_current=True)
    episode = patient.episodes.get(status="active")
    response = Response.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=episode,
        instrument=instrument,
        window=f"test:{code}:{when.isoformat()}",
        record_category=record_category_for(episode, Category.SELF_REPORT),
        status=Response.Status.COMPLETE,
        started_at=when,
        expires_at=when + dt.timedelta(days=1),
        submitted_at=when,
        total=total,
    )
    Answer.objects.bulk_create(
        Answer(
            organization_id=patient.organization_id,
            response=response,
            item_code=item,
            value=value,
            answered_at=when,
        )
        for item, value in (items or {}).items()
    )
    return response
