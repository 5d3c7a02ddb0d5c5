from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tether.patients.models import Episode, Patient
from tether.privacy import gate
from tether.privacy.gate import disclosure_category_for, record_category_for
from tether.privacy.policy import Category
from tether.testing.family import make_part2


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


def _labels(patient: Patient) -> list[Category]:
    return [
        function(patient, category)
        for function in (record_category_for, disclosure_category_for)
        for category in Category
    ]


@pytest.mark.parametrize("programs", ["none", "active", "discharged", "both"])
def test_a_request_remembers_the_same_labels_it_would_read(cast, programs):
    """Inside one GET request (``decisions_once``) a patient's Part 2 programs are read
    once and remembered: every label is the one read outside it, for a patient never in
    a Part 2 program, in one now, discharged from one, and in one after another."""
    patient = cast.patient.patient
    active = Episode.objects.get(patient=patient, status=Episode.Status.ACTIVE)
    part2 = cast.adolescent_iop  # none of the adult patient's episodes until below
    make_part2(part2)
    if programs in ("active", "both"):
        active.program = part2
        active.save(update_fields=["program"])
    if programs in ("discharged", "both"):
        Episode.objects.create(
            organization=cast.organization,
            patient=patient,
            program=part2,
            status=Episode.Status.DISCHARGED,
            admitted_on=dt.date(2025, 1, 6),
            discharged_on=dt.date(2025, 2, 14),
        )
    read = _labels(patient)
    with CaptureQueriesContext(connection) as queries, gate.decisions_once():
        remembered = _labels(patient)
        assert _labels(patient) == remembered
    assert remembered == read
    assert len(queries) == 1
    expected_record = Category.PART2 if programs in ("active", "both") else Category.SHARED
    expected_disclosure = Category.SHARED if programs == "none" else Category.PART2
    assert record_category_for(patient, Category.SHARED) == expected_record
    assert disclosure_category_for(patient, Category.SHARED) == expected_disclosure
