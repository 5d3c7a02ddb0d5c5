from __future__ import annotations

from tether.patients.models import Episode
from tether.privacy.gate import record_category_for
from tether.privacy.policy import Category


def test_it_labels_clinical_records_part2_in_a_part2_program(cast):
    patient = cast.patient.patient
    assert record_category_for(patient, Category.MENTAL_HEALTH) == Category.MENTAL_HEALTH
    episode = Episode.objects.get(patient=patient, status=Episode.Status.ACTIVE)
    episode.program.treats_substance_use = True
    episode.program.save(update_fields=["treats_substance_use"])
    assert record_category_for(patient, Category.MENTAL_HEALTH) == Category.PART2
    assert record_category_for(episode, Category.SELF_REPORT) == Category.PART2
    assert record_category_for(episode, Category.GENERAL) == Category.GENERAL
    assert record_category_for(episode, Category.PSYCHOTHERAPY_NOTE) == (
        Category.PSYCHOTHERAPY_NOTE
    )
