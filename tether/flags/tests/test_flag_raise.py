from __future__ import annotations

from tether.flags.models import Flag
from tether.flags.services import flag_raise
from tether.privacy.models import AuditEvent


def test_it_raises_one_flag_per_source_and_audits_it(cast):
    patient = cast.patient.patient
    episode = patient.episodes.get()
    first, created = flag_raise(
        patient=patient, episode=episode, kind=Flag.Kind.SAFETY, reason="phq9_item9", source=episode
    )
    again, created_again = flag_raise(
        patient=patient, episode=episode, kind=Flag.Kind.SAFETY, reason="phq9_item9", source=episode
    )
    assert created and not created_again and first.pk == again.pk
    assert first.reason_label.startswith("PHQ-9 item 9")
    event = AuditEvent.objects.get(object_type="flags.flag")
    assert (event.action, event.category, event.object_id) == (
        "create",
        "self_report",
        str(first.pk),
    )
