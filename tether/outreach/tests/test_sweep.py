"""The reminder sweep: what each patient chose, outside quiet hours, never twice."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from tether.flags.models import Flag
from tether.outreach.models import ContactPreference, OutboundMessage
from tether.outreach.services import in_quiet_hours
from tether.outreach.sweep import reminders_sweep

NY = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def texting(texting):
    """Here Maria gets reminders with a link (she does not answer check-ins by text)."""
    texting.daily_checkin_by_text = False
    texting.save()
    return texting


def _today() -> dt.date:
    return dt.datetime.now(NY).date()


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NY)


@pytest.mark.django_db
def test_a_due_check_in_is_reminded_once_by_text(
    daily_on, texting, django_capture_on_commit_callbacks
):
    evening = _at(_today(), 18)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_sweep(now=evening) == {"checkin_due": 1}
    assert reminders_sweep(now=evening + dt.timedelta(minutes=5)) == {}
    message = OutboundMessage.objects.get()
    assert message.to == texting.sms_phone and message.status == "sent"
    assert "check-in waiting" in message.body and "/o/" in message.body
    assert "IOP" not in message.body


@pytest.mark.django_db
def test_nothing_is_sent_in_quiet_hours_or_after_stop(daily_on, texting):
    late = _at(_today(), 22)
    assert reminders_sweep(now=late) == {}
    ContactPreference.objects.update(sms_stopped_at=late)
    assert reminders_sweep(now=_at(_today(), 18)) == {}


@pytest.mark.django_db
def test_a_patient_without_preferences_or_consent_gets_nothing(daily_on):
    assert reminders_sweep(now=_at(_today(), 18)) == {}
    ContactPreference.objects.create(
        organization=daily_on.organization,
        patient=daily_on.patient.patient,
        sms_phone="+14135550142",
        by_sms=True,  # but no opt-in recorded
    )
    assert reminders_sweep(now=_at(_today(), 18)) == {}


@pytest.mark.django_db
def test_a_disengaged_patient_is_not_nagged(daily_on, texting):
    maria = daily_on.patient.patient
    Flag.objects.create(
        organization_id=maria.organization_id,
        patient=maria,
        episode=maria.episodes.get(),
        kind="disengagement",
        severity=2,
        reason="no_login",
        source_type="patients.patient",
        source_id=maria.pk,
        raised_at=_at(_today(), 9),
    )
    assert reminders_sweep(now=_at(_today(), 18)) == {}


@pytest.mark.django_db
def test_a_parent_never_receives_the_teens_check_in(daily_on, texting):
    """Reminders go to the patient's own number only: the teen without texts turned on
    gets nothing, and nothing goes to any number of their family member."""
    reminders_sweep(now=_at(_today(), 18))
    teen = daily_on.adolescent.patient
    assert not OutboundMessage.objects.filter(patient=teen).exists()
    assert set(OutboundMessage.objects.values_list("to", flat=True)) == {texting.sms_phone}


def test_quiet_hours_follow_the_patients_clock_across_a_daylight_saving_change():
    def quiet(now: dt.datetime) -> bool:
        return in_quiet_hours(quiet_from=dt.time(21), quiet_until=dt.time(8), tz=NY, now=now)

    # 12:30 UTC is 08:30 the day before the clocks go back (EDT), 07:30 on that day (EST).
    before = dt.datetime(2026, 10, 31, 12, 30, tzinfo=dt.UTC)
    after = dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.UTC)
    assert not quiet(before)
    assert quiet(after)
    # And in spring: 00:30 UTC is 20:30 EST before, 21:30 EDT after.
    assert not quiet(dt.datetime(2026, 3, 8, 1, 30, tzinfo=dt.UTC))
    assert quiet(dt.datetime(2026, 3, 9, 1, 30, tzinfo=dt.UTC))


@pytest.mark.django_db
def test_a_sweep_with_nothing_new_signs_and_renders_nothing(
    daily_on, texting, monkeypatch, django_capture_on_commit_callbacks
):
    """Patients already reminded in this window are dropped in SQL, before any link is
    signed or body rendered (the cause of the slow steady state at 100,000 patients)."""
    from tether.outreach import content

    signed: list[int] = []
    real = content.make_link

    def counting(*, patient_id: int, kind: str, prefix: str | None = None) -> str:
        signed.append(patient_id)
        return real(patient_id=patient_id, kind=kind, prefix=prefix)

    monkeypatch.setattr(content, "make_link", counting)
    evening = _at(_today(), 18)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_sweep(now=evening) == {"checkin_due": 1}
    assert signed == [texting.patient_id]
    signed.clear()
    assert reminders_sweep(now=evening + dt.timedelta(minutes=5)) == {}
    assert reminders_sweep(now=evening + dt.timedelta(hours=4)) == {}  # quiet hours too
    assert signed == []


@pytest.mark.django_db
def test_a_texted_reminder_is_not_sent_again_when_the_patient_adds_e_mail(
    daily_on, texting, django_capture_on_commit_callbacks
):
    """One reminder per kind per window, whatever channels are added after it went out."""
    evening = _at(_today(), 18)
    assert reminders_sweep(now=evening) == {"checkin_due": 1}
    ContactPreference.objects.filter(pk=texting.pk).update(by_email=True)
    assert reminders_sweep(now=evening + dt.timedelta(minutes=5)) == {}
    assert OutboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_patient_who_answers_by_text_gets_the_first_question_not_a_link(
    daily_on, texting, django_capture_on_commit_callbacks
):
    ContactPreference.objects.filter(pk=texting.pk).update(daily_checkin_by_text=True)
    evening = _at(_today(), 18)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_sweep(now=evening) == {"sms_checkin": 1}
    assert reminders_sweep(now=evening + dt.timedelta(minutes=5)) == {}
    body = OutboundMessage.objects.get().body
    # The daily check-in's own first item, nothing clinical, no link.
    assert "How is your mood today?" in body and "/o/" not in body and "STOP" in body


@pytest.mark.django_db
def test_a_program_that_texts_questionnaires_offers_them_neutrally(
    daily_on, texting, django_capture_on_commit_callbacks
):
    from tether.checkins.models import ProgramInstrument
    from tether.outreach.models import ProgramTextSetting

    ContactPreference.objects.filter(pk=texting.pk).update(daily_checkin_by_text=True)
    ProgramInstrument.objects.filter(program=daily_on.iop).delete()
    ProgramInstrument.objects.create(
        organization=daily_on.organization,
        program=daily_on.iop,
        instrument_code="phq9",
        schedule=ProgramInstrument.Schedule.WEEKLY,
    )
    ProgramTextSetting.objects.create(
        organization=daily_on.organization, program=daily_on.iop, measures_by="text"
    )
    evening = _at(_today(), 18)
    assert reminders_sweep(now=evening) == {"sms_measure": 1}
    body = OutboundMessage.objects.get().body
    assert "questions waiting" in body and "PHQ" not in body
    assert ContactPreference.objects.get(pk=texting.pk).text_offer == "phq9"


@pytest.mark.django_db
def test_the_first_sweep_stores_and_hands_over_a_chunk_at_a_time(
    daily_on, texting, monkeypatch, django_capture_on_commit_callbacks
):
    """Each chunk is stored (messages and audit events) and delivered on its own; a chunk
    that loses a race leaves the others sent and the next sweep finds the rest."""
    from tether.outreach import services, sweep
    from tether.privacy.models import AuditEvent

    ContactPreference.objects.create(
        organization=daily_on.organization,
        patient=daily_on.other_patient.patient,
        sms_phone="+14135550143",
        by_sms=True,
        sms_opted_in_at=texting.sms_opted_in_at,
    )
    monkeypatch.setattr(sweep, "CHUNK", 1)
    sizes: list[int] = []
    real = services.queue_many

    def counting(drafts, **kwargs):
        sizes.append(len(drafts))
        if len(sizes) == 2:
            return []  # as if another sweep had stored it a moment ago
        return real(drafts, **kwargs)

    monkeypatch.setattr(sweep, "queue_many", counting)
    evening = _at(_today(), 18)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_sweep(now=evening) == {"checkin_due": 1}
    assert sizes == [1, 1]
    assert OutboundMessage.objects.get().status == "sent"
    assert AuditEvent.objects.filter(object_type="outreach.outboundmessage").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_sweep(now=evening + dt.timedelta(minutes=5)) == {"checkin_due": 1}
    assert OutboundMessage.objects.filter(status="sent").count() == 2
