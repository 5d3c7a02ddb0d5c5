"""Consent directives (42 CFR 2.31), the recipients they name, and disclosures (§2.25).

Recipients (a primary-care provider, a psychiatrist, a probation officer…) never sign
in: staff push specific updates to them, each one checked against the patient's
consents by ``tether.privacy.gate.may_disclose`` and recorded as a ``Disclosure``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.accounts.models import IdentityDocument
from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization
from tether.patients.models import Patient
from tether.privacy.models import Purpose
from tether.privacy.policy import Category


class Recipient(models.Model):
    """Someone outside the program who may receive information (never a login)."""

    class Kind(models.TextChoices):
        PRIMARY_CARE = "primary_care", _("Primary-care provider")
        PSYCHIATRIST = "psychiatrist", _("Psychiatrist")
        THERAPIST = "therapist", _("Outside therapist")
        PROBATION = "probation", _("Probation or parole officer")
        HEALTH_PLAN = "health_plan", _("Health plan or payer")
        OTHER = "other", _("Other")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    recipient_organization = models.CharField(_("organization"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # A payer (kind ``health_plan``): the payer's own identifier (its electronic payer
    # ID) and the plan or group number the reviewer works under, printed on every
    # utilization-review packet so the reviewer can match it. Blank for anyone else.
    payer_identifier = models.CharField(_("payer ID"), max_length=64, blank=True)
    plan_identifier = models.CharField(_("plan or group number"), max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="health_plan")
                | models.Q(payer_identifier="", plan_identifier=""),
                name="recipient_payer_ids_only_for_payers",
            ),
        ]

    def __str__(self) -> str:
        name = self.name
        if self.recipient_organization:
            name = f"{self.name}, {self.recipient_organization}"
        if self.payer_identifier:
            name = f"{name} ({_('payer ID')} {self.payer_identifier})"
        return name

    @property
    def is_payer(self) -> bool:
        return self.kind == self.Kind.HEALTH_PLAN


# The categories a consent can cover (psychotherapy notes need their own authorization
# under HIPAA and are never released through this feature).
CONSENTABLE_CATEGORIES = (
    Category.GENERAL,
    Category.MENTAL_HEALTH,
    Category.SELF_REPORT,
    Category.PART2,
)


class ConsentDirective(models.Model):
    """One written consent: one patient, one recipient (or the TPO class), one category.

    Every §2.31 element is a field: the patient (1), who may disclose (2), a specific
    description (3), the recipient by name or the TPO class (4), the purpose (5), the
    right to revoke (6, ``revoke_statement`` as shown when signed), the expiry date or
    event (7), signature and date (8), the redisclosure and refusal statements (9).
    """

    class SignedVia(models.TextChoices):
        PORTAL = "portal", _("Signed by the patient in the portal")
        STAFF_DEVICE = "staff_device", _("Signed by the patient on a staff device at intake")

    class PatientConfirmed(models.TextChoices):
        """How the patient did the signing themself, on a staff device."""

        PATIENT_PASSWORD = "patient_password", _("the patient typed their own password")
        IN_PERSON = "in_person", _("in person, identity checked")
        # Staff-device consents saved before this was recorded (migration 0003).
        UNRECORDED = "unrecorded", _("not recorded")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    discloser = models.CharField(_("who may disclose"), max_length=200)
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, null=True, blank=True, related_name="consents"
    )
    recipient_class = models.CharField(
        _("recipients as a class (single consent for treatment, payment and operations)"),
        max_length=300,
        blank=True,
    )
    category = models.CharField(
        _("information"),
        max_length=32,
        choices=[(c.value, c.label) for c in CONSENTABLE_CATEGORIES],
    )
    description = EncryptedTextField(_("what information, specifically"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    expires_on = models.DateField(_("ends on"), null=True, blank=True)
    expiry_event = models.CharField(_("or ends when"), max_length=200, blank=True)
    revoke_statement = models.TextField()
    redisclosure_statement = models.TextField()
    refusal_statement = models.TextField()
    signature_name = EncryptedTextField(_("typed name"))
    signed_at = models.DateTimeField()
    signed_via = models.CharField(max_length=16, choices=SignedVia.choices)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # On a staff device: who entered it, and how the patient confirmed it was their act.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    patient_confirmed = models.CharField(
        max_length=16, choices=PatientConfirmed.choices, blank=True
    )
    identity_document = models.CharField(
        max_length=32, choices=IdentityDocument.choices, blank=True
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False) | ~models.Q(recipient_class=""),
                name="consent_names_a_recipient",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=False) | ~models.Q(expiry_event=""),
                name="consent_has_an_end",
            ),
            # A consent on a staff device is the patient's witnessed act (42 CFR 2.31).
            models.CheckConstraint(
                condition=models.Q(signed_via="portal", patient_confirmed="")
                | models.Q(signed_via="staff_device", patient_confirmed="unrecorded")
                | (
                    models.Q(
                        signed_via="staff_device",
                        entered_by__isnull=False,
                        witnessed_by__isnull=False,
                        patient_confirmed__in=["patient_password", "in_person"],
                    )
                    & (~models.Q(patient_confirmed="in_person") | ~models.Q(identity_document=""))
                ),
                name="consent_staff_entry_witnessed",
            ),
        ]

    def __str__(self) -> str:
        return f"consent #{self.pk}"

    def is_in_force(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_on is None or self.expires_on >= timezone.localdate(now)

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if not self.is_in_force():
            return "expired"
        return "in_force"


class Disclosure(models.Model):
    """One release of information outside the program, for the §2.25 accounting."""

    class Kind(models.TextChoices):
        ATTENDANCE_SUMMARY = "attendance_summary", _("Attendance summary")
        PROGRESS_SUMMARY = "progress_summary", _("Progress summary")
        DISCHARGE_SUMMARY = "discharge_summary", _("Discharge summary")
        MEASURE_HISTORY = "measure_history", _("Measure history export (PHQ-9, GAD-7)")
        FHIR_API = "fhir_api", _("Records read by the recipient's system (FHIR API)")
        UR_PACKET = "ur_packet", _("Utilization-review packet (PDF)")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="disclosures")
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="disclosures")
    consent = models.ForeignKey(
        ConsentDirective, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    category = models.CharField(max_length=32, choices=Category.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    content = EncryptedTextField()
    notice = models.TextField()
    # A document released as a file (the utilization-review packet's PDF), base64, kept
    # exactly as sent; ``content`` holds its text summary for the page. Empty otherwise.
    document = EncryptedTextField(blank=True)
    # A person sent it, or (FHIR API) the recipient's registered system fetched it.
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    fhir_client = models.ForeignKey(
        "fhir.FhirClient", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    disclosed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-disclosed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(disclosed_by__isnull=False)
                | models.Q(fhir_client__isnull=False),
                name="disclosure_has_a_discloser",
            ),
        ]

    def __str__(self) -> str:
        return f"disclosure #{self.pk}"


class Amendment(models.Model):
    """A patient's request to correct their record (ONC 170.315(d)(4)).

    Whether accepted or denied, the request and the decision (with the reason for a
    denial) stay attached to the patient's record: nothing is overwritten.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Waiting for the care team")
        ACCEPTED = "accepted", _("Accepted and added to your record")
        DENIED = "denied", _("Not accepted")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="amendments")
    about = EncryptedTextField(_("What is wrong in your record"))
    correction = EncryptedTextField(_("What it should say"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"amendment #{self.pk}"
