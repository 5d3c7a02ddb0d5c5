"""Consent, disclosures and family scopes for the story people.

- Recipients outside the program: a primary-care provider, a psychiatrist and a
  probation officer (they never sign in).
- The substance-use patient (a Part 2 program): consents to their primary-care
  provider receiving mental-health records only (Part 2 records stay in the program);
  one progress summary went out under it, carrying the notice.
- The adolescent's parent: attendance and appointments, set under the program's policy
  with the adolescent's assent.

Rows are created directly, not through the services, so the audit trail only holds
what people do in the demo.
"""

from __future__ import annotations

import datetime as dt

from tether.consent import services
from tether.consent.models import ConsentDirective, Disclosure, Recipient
from tether.demo.context import DemoContext
from tether.demo.stories import Story, username_for
from tether.patients.models import CareTeamMember, Proxy
from tether.privacy.models import Purpose
from tether.privacy.policy import Category


def run(ctx: DemoContext) -> None:
    org = ctx.organization
    assert org is not None  # noqa: S101 - the organization step ran first
    pcp, _psychiatrist, _probation = (
        Recipient.objects.create(
            organization=org, name=name, recipient_organization=where, kind=kind
        )
        for name, where, kind in (
            ("Dr. Elena Rivera", "Main Street Family Clinic", Recipient.Kind.PRIMARY_CARE),
            ("Dr. Omar Haddad", "County Behavioral Health", Recipient.Kind.PSYCHIATRIST),
            ("Officer J. Brooks", "County Probation Department", Recipient.Kind.PROBATION),
        )
    )
    patient = ctx.patients[username_for(Story.SUBSTANCE_USE)]
    signed_at = ctx.now - dt.timedelta(days=12)
    clinician = (
        CareTeamMember.objects.filter(episode__patient=patient, ended_on__isnull=True)
        .select_related("staff_member__user")
        .first()
    )
    witness = clinician.staff_member.user if clinician is not None else None
    consent = ConsentDirective.objects.create(
        organization=org,
        patient=patient,
        discloser=str(org),
        recipient=pcp,
        category=Category.MENTAL_HEALTH.value,
        description="Attendance and short progress summaries (no substance-use details)",
        purpose=Purpose.TREATMENT.value,
        expires_on=ctx.today + dt.timedelta(days=180),
        revoke_statement=services.revoke_statement(),
        redisclosure_statement=services.redisclosure_statement(),
        refusal_statement=services.refusal_statement(),
        signature_name=f"{patient.first_name} {patient.last_name}",
        signed_at=signed_at,
        signed_via=ConsentDirective.SignedVia.STAFF_DEVICE,
        # Signed at intake in front of their clinician, photo ID checked (issue 13).
        entered_by=witness,
        witnessed_by=witness,
        patient_confirmed=ConsentDirective.PatientConfirmed.IN_PERSON,
        identity_document="drivers_license",
    )
    if clinician is not None:
        Disclosure.objects.create(
            organization=org,
            patient=patient,
            recipient=pcp,
            consent=consent,
            kind=Disclosure.Kind.PROGRESS_SUMMARY.value,
            category=Category.MENTAL_HEALTH.value,
            purpose=Purpose.TREATMENT.value,
            content="Attends groups regularly; mood steadier over the last two weeks.",
            notice=services.notice_for(Category.MENTAL_HEALTH),
            disclosed_by=clinician.staff_member.user,
            disclosed_at=ctx.now - dt.timedelta(days=5),
        )
    adolescent = ctx.patients[username_for(Story.ADOLESCENT)]
    Proxy.objects.filter(patient=adolescent).update(
        scope_attendance=True, scope_appointments=True, assent_recorded_at=signed_at
    )
    ctx.counts["recipients"] = 3
    ctx.counts["consents"] = 1
    ctx.counts["disclosures"] = Disclosure.objects.filter(organization=org).count()
