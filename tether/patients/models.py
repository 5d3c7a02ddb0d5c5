"""Patients, their episodes of care, care teams and family members / proxies."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization, Program, StaffMember


class LevelOfCare(models.TextChoices):
    PHP = "php", _("Partial hospitalization")
    IOP = "iop", _("Intensive outpatient")
    OP = "op", _("Outpatient (step-down)")


class Patient(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="patients"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="patient",
        null=True,
        blank=True,
    )
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    record_number = models.CharField(_("record number (MRN)"), max_length=32)
    mobile_phone = models.CharField(_("mobile phone"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("patient")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "record_number"], name="patient_unique_record_number"
            ),
        ]
        indexes = [models.Index(fields=["organization", "last_name", "first_name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    @property
    def friendly_name(self) -> str:
        return self.preferred_name or self.first_name

    def age_on(self, day: dt.date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Episode(models.Model):
    """A patient's admission to a program: level of care, step-down, discharge."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DISCHARGED = "discharged", _("Discharged")

    class DischargeReason(models.TextChoices):
        # Planned endings.
        COMPLETED = "completed", _("Completed treatment")
        STEPPED_DOWN = "stepped_down", _("Stepped down to outpatient care")
        # Unplanned endings (the outcomes report counts them as dropout).
        AGAINST_ADVICE = "against_advice", _("Left against clinical advice")
        STOPPED_ATTENDING = "stopped_attending", _("Stopped attending")
        TRANSFERRED = "transferred", _("Transferred to a higher level of care")
        ADMINISTRATIVE = "administrative", _("Administrative discharge")
        # Older codes, kept for episodes recorded before the list above; not offered.
        LEFT_EARLY = "left_early", _("Left before completing")
        OTHER = "other", _("Other")

    PLANNED_ENDINGS = frozenset({DischargeReason.COMPLETED, DischargeReason.STEPPED_DOWN})
    OFFERED_ENDINGS = (
        DischargeReason.COMPLETED,
        DischargeReason.STEPPED_DOWN,
        DischargeReason.AGAINST_ADVICE,
        DischargeReason.STOPPED_ATTENDING,
        DischargeReason.TRANSFERRED,
        DischargeReason.ADMINISTRATIVE,
    )

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="episodes")
    level_of_care = models.CharField(_("level of care"), max_length=8, choices=LevelOfCare.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    admitted_on = models.DateField(_("admitted on"))
    discharged_on = models.DateField(_("discharged on"), null=True, blank=True)
    discharge_reason = models.CharField(
        _("discharge reason"), max_length=24, choices=DischargeReason.choices, blank=True
    )
    # Until when a discharged patient keeps access (program setting, fixed at discharge).
    access_until = models.DateField(_("keeps access until"), null=True, blank=True)

    class Meta:
        verbose_name = _("episode of care")
        verbose_name_plural = _("episodes of care")
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="active"),
                name="episode_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=models.F("admitted_on")),
                name="episode_discharge_after_admission",
            ),
            models.CheckConstraint(
                condition=Q(status="active", discharged_on__isnull=True)
                | Q(status="discharged", discharged_on__isnull=False),
                name="episode_status_matches_discharge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} from {self.admitted_on:%Y-%m-%d}"

    @property
    def ended_as_planned(self) -> bool | None:
        if not self.discharge_reason:
            return None
        return self.discharge_reason in self.PLANNED_ENDINGS


class LevelOfCareChange(models.Model):
    """A step up or step down within one episode (PHP → IOP → OP)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="level_changes")

    class Reason(models.TextChoices):
        IMPROVED = "improved", _("Symptoms improved: less support needed")
        WORSENED = "worsened", _("Symptoms worsened: more support needed")
        PATIENT_REQUEST = "patient_request", _("At the patient's request")
        PAYER = "payer", _("Payer authorization")
        OTHER = "other", _("Another clinical reason")

    from_level = models.CharField(max_length=8, choices=LevelOfCare.choices)
    to_level = models.CharField(max_length=8, choices=LevelOfCare.choices)
    changed_on = models.DateField()
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices, blank=True)
    recorded_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["changed_on", "id"]

    def __str__(self) -> str:
        return (
            f"{self.get_from_level_display()} → {self.get_to_level_display()} on {self.changed_on}"
        )


class CareTeamMember(models.Model):
    """A staff member who treats the patient during an episode."""

    class Role(models.TextChoices):
        PRIMARY_THERAPIST = "primary_therapist", _("Primary therapist")
        GROUP_FACILITATOR = "group_facilitator", _("Group facilitator")
        PSYCHIATRIC_PRESCRIBER = "prescriber", _("Psychiatric prescriber")
        CASE_MANAGER = "case_manager", _("Case manager")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="care_team")
    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="care_team_memberships"
    )
    role = models.CharField(_("role on the team"), max_length=32, choices=Role.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "staff_member"],
                condition=Q(ended_on__isnull=True),
                name="care_team_one_active_membership",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_member} ({self.get_role_display()})"


class Proxy(models.Model):
    """A family member or guardian with a portal login and a limited view.

    What a proxy may see is decided by the privacy gate from the ``scope_*`` flags
    (``tether.privacy.gate.proxy_scopes``) and the patient's consents; never by a view.
    """

    class Relationship(models.TextChoices):
        PARENT = "parent", _("Parent or guardian")
        SPOUSE = "spouse", _("Spouse or partner")
        OTHER = "other", _("Other support person")

    class Scope(models.TextChoices):
        """What a proxy may see. An adult patient grants and revokes each one; for an
        adolescent the program's policy and the patient's assent decide."""

        ATTENDANCE = "attendance", _("Attendance")
        APPOINTMENTS = "appointments", _("Appointments")
        FAMILY_UPDATES = "family_updates", _("General progress updates written for families")
        FAMILY_ASSIGNMENTS = "family_assignments", _("Family-therapy assignments")
        MESSAGING = "messaging", _("Messaging with the care team")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="proxies")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proxy_for"
    )
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    is_legal_guardian = models.BooleanField(default=False)
    scope_attendance = models.BooleanField(_("sees attendance"), default=True)
    scope_appointments = models.BooleanField(_("sees appointments"), default=True)
    scope_family_updates = models.BooleanField(
        _("sees progress updates for families"), default=False
    )
    scope_family_assignments = models.BooleanField(
        _("sees family-therapy assignments"), default=False
    )
    scope_messaging = models.BooleanField(_("may message the care team"), default=False)
    # For an adolescent: when the patient agreed (assent) to the scopes set under the
    # program's policy. Null for an adult patient, who sets the scopes themself.
    assent_recorded_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("family member or proxy")
        constraints = [
            models.UniqueConstraint(fields=["patient", "user"], name="proxy_unique_per_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_relationship_display()} (proxy #{self.pk})"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(s.value for s in self.Scope if getattr(self, f"scope_{s.value}"))


class AftercarePlan(models.Model):
    """What happens after discharge: next appointments, who to call, whether the safety
    plan stays with the patient. Written with the care team (``shared``; ``part2`` in a
    Part 2 program, labelled at capture); the patient reads it after discharge."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="aftercare")
    next_appointments = EncryptedTextField(_("next appointments"), blank=True)
    who_to_call = EncryptedTextField(_("who to call"), blank=True)
    keeps_safety_plan = models.BooleanField(_("keeps their safety plan"), default=True)
    final_measures_offered = models.BooleanField(default=False)
    record_category = models.CharField(max_length=32)
    written_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"aftercare plan #{self.pk}"
