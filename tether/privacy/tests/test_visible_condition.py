"""``gate.visible_condition``: the gate's visible patients stated on another table's patient
column (the flag queue's flags, the urgent requests list) gives the same rows as going through the patients table,
for every persona, category and action — a lead's, on-call's and the front desk's program
relations included, which on PostgreSQL it states on the rows directly."""

from __future__ import annotations

import datetime as dt
from itertools import count

from django.db.models import F
from django.utils import timezone

from tether.crisis.models import Level, UrgentContactRequest
from tether.flags.models import Flag
from tether.flags.selectors import queue_for
from tether.patients.models import Episode, Patient
from tether.privacy.gate import kept_visible, patients_visible_to, visible_condition
from tether.privacy.models import BreakGlassGrant
from tether.privacy.policy import Action, Category
from tether.testing.cast import make_patient

_ids = count(1)


def _flag(patient: Patient) -> Flag:
    episode = patient.episodes.order_by("-pk").first()
    assert episode is not None
    return Flag.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=episode,
        kind=Flag.Kind.DISENGAGEMENT,
        severity=2,
        reason="no_login",
        raised_at=timezone.now() - dt.timedelta(days=1),
        status=Flag.Status.OPEN,
        source_type="test",
        source_id=next(_ids),
    )


def _world(cast) -> list[Patient]:
    """The cast's patients, one discharged, one of another organization, one opened to the
    unassigned clinician by break glass; a flag each."""
    other_program = cast.other_organization.programs.get()
    elsewhere = make_patient(
        cast.other_organization, other_program, "far.away", first_name="Far", last_name="Away"
    ).patient
    # A mis-filed row: another organization's patient with an episode in this program. The
    # gate keeps to the user's organization whatever the episodes say.
    misfiled = make_patient(
        cast.other_organization, cast.iop, "mis.filed", first_name="Mis", last_name="Filed"
    ).patient
    gone = make_patient(
        cast.organization,
        cast.iop,
        "gone.home",
        first_name="Gone",
        last_name="Home",
        clinician=cast.assigned_clinician,
    ).patient
    Episode.objects.filter(patient=gone).update(
        status=Episode.Status.DISCHARGED, discharged_on=timezone.localdate()
    )
    now = timezone.now()
    # Break glass: the unassigned clinician to a patient of the program; the lead to the
    # discharged patient, outside their program's relation (a lead's own relation and
    # their program's together).
    for user, patient in (
        (cast.unassigned_clinician, cast.patient.patient),
        (cast.clinical_lead, gone),
    ):
        BreakGlassGrant.objects.create(
            organization_id=cast.organization.pk,
            user=user,
            patient=patient,
            reason="other: test situation, no real emergency",
            started_at=now - dt.timedelta(minutes=1),
            expires_at=now + dt.timedelta(minutes=59),
        )
    patients = [
        cast.patient.patient,
        cast.other_patient.patient,
        cast.adolescent.patient,
        elsewhere,
        gone,
        misfiled,
    ]
    # No flag's key equals its patient's: a condition stated on the wrong column (the
    # flag's own key) would go unseen otherwise.
    for patient in [*reversed(patients), patients[0]]:
        flag = _flag(patient)
        while flag.pk == patient.pk:
            flag.delete()
            flag = _flag(patient)
    assert not Flag.objects.filter(pk=F("patient_id")).exists()
    # An urgent request each (the on-call clinician's list), one of them closed.
    for n, patient in enumerate(patients):
        episode = patient.episodes.order_by("-pk").first()
        assert episode is not None
        raised = timezone.now() - dt.timedelta(hours=n + 1)
        closed = n == 1
        UrgentContactRequest.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            program=episode.program,
            source=UrgentContactRequest.Source.PATIENT_BUTTON,
            level=Level.CARE_TEAM,
            raised_at=raised,
            status=UrgentContactRequest.Status.CLOSED
            if closed
            else UrgentContactRequest.Status.OPEN,
            acknowledged_at=raised if closed else None,
            closed_at=raised if closed else None,
        )
    return patients


def test_the_same_rows_as_through_the_patients_table(cast):
    _world(cast)
    checked = 0
    for name, user in cast.personas().items():
        for category in Category:
            for action in (Action.VIEW, Action.CREATE, Action.UPDATE):
                visible = patients_visible_to(user, category=category, action=action)
                for model in (Flag, Episode, UrgentContactRequest):
                    expected = set(
                        model.objects.filter(patient__in=visible.values("pk")).values_list(
                            "pk", flat=True
                        )
                    )
                    condition = visible_condition(user, category=category, action=action)
                    found = set(model.objects.filter(condition).values_list("pk", flat=True))
                    assert found == expected, (name, category, action, model.__name__)
                    checked += 1
    assert checked > 150


def test_kept_on_the_patients_themselves_gives_the_gates_patients(cast):
    """``kept_visible(field=None)`` (the patient list's count and pages, the lead board's
    count): the patients ``patients_visible_to`` gives, for every persona, category and
    action — the mis-filed patient and the other organization's never."""
    patients = _world(cast)
    checked = 0
    for name, user in cast.personas().items():
        for category in Category:
            for action in (Action.VIEW, Action.CREATE, Action.UPDATE):
                expected = set(
                    patients_visible_to(user, category=category, action=action).values_list(
                        "pk", flat=True
                    )
                )
                kept = kept_visible(user, category=category, action=action, field=None)
                found = (
                    set()
                    if kept is None
                    else set(
                        Patient.objects.filter(kept.condition(kept.values)).values_list(
                            "pk", flat=True
                        )
                    )
                )
                assert found == expected, (name, category, action)
                assert patients[5].pk not in found  # the mis-filed one
                checked += 1 if found else 0
    assert checked > 20


def test_a_leads_flag_queue_is_their_programs_patients_and_no_one_elses(cast):
    patients = _world(cast)
    elsewhere, gone = patients[3], patients[4]
    lead_sees = {f.patient_id for f in queue_for(user=cast.clinical_lead)}
    # The program's active patients, and the discharged one through break glass alone.
    assert lead_sees == {
        cast.patient.patient.pk,
        cast.other_patient.patient.pk,
        cast.adolescent.patient.pk,
        gone.pk,
    }
    BreakGlassGrant.objects.filter(user=cast.clinical_lead).delete()
    lead_sees = {f.patient_id for f in queue_for(user=cast.clinical_lead)}
    # Not a discharged patient (the program relation is to active episodes) and never
    # another organization's.
    assert gone.pk not in lead_sees and elsewhere.pk not in lead_sees
    assert patients[5].pk not in lead_sees  # the mis-filed one
    assert {f.patient_id for f in queue_for(user=cast.other_org_clinician)} <= {elsewhere.pk}
    # The clinician: their own caseload (the discharged patient's care team goes on).
    mine = {f.patient_id for f in queue_for(user=cast.assigned_clinician)}
    assert elsewhere.pk not in mine and cast.patient.patient.pk in mine
