"""The tenant (organization), its programs, and the staff who work in them."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


DEFAULT_RESPONSE_TEXT = "within 1 business day; up to 48 hours"


class Organization(models.Model):
    """A treatment-center network: the tenant. No organization ever sees another's data."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization")

    def __str__(self) -> str:
        return self.name


class Program(models.Model):
    """A level-of-care program (IOP, PHP, adolescent IOP) with its own crisis numbers."""

    class Kind(models.TextChoices):
        IOP = "iop", _("Intensive outpatient (IOP)")
        PHP = "php", _("Partial hospitalization (PHP)")
        ADOLESCENT_IOP = "adolescent_iop", _("Adolescent intensive outpatient")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="programs"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    crisis_line = models.CharField(
        _("program crisis line"), max_length=32, help_text=_("Answered around the clock.")
    )
    crisis_line_takes_texts = models.BooleanField(
        _("the program crisis line takes text messages"),
        default=False,
        help_text=_(
            "Only if texts to this number reach a person: a text sent to a landline is lost."
        ),
    )
    after_hours_line = models.CharField(_("after-hours on-call number"), max_length=32, blank=True)
    # Whether a Spanish speaker is understood on the program's crisis line: patients see
    # it beside the number, and the care team knows what to offer (docs/I18N.md).
    spanish_spoken = models.BooleanField(
        _("Spanish spoken on the crisis line"),
        default=False,
        help_text=_("Tick only if a Spanish speaker calling the crisis line is understood."),
    )
    main_line = models.CharField(_("front desk number"), max_length=32, blank=True)
    treats_substance_use = models.BooleanField(
        _("treats substance use (42 CFR Part 2 program)"), default=False
    )
    is_active = models.BooleanField(default=True)

    # Reaching the care team: office hours (program time zone), urgent requests, messages.
    # After discharge the patient keeps their safety plan, aftercare plan and final
    # measures for this many days (Episode.access_until).
    post_discharge_access_days = models.PositiveSmallIntegerField(
        _("days a discharged patient keeps access"), default=30
    )
    office_opens_at = models.TimeField(_("office hours start"), default=dt.time(9, 0))
    office_closes_at = models.TimeField(_("office hours end"), default=dt.time(17, 0))
    office_days = models.CharField(
        _("office days"),
        max_length=7,
        default="01234",
        help_text=_("Weekdays the office is open: 0 is Monday, 6 is Sunday."),
    )
    escalation_minutes = models.PositiveSmallIntegerField(
        _("minutes before an unacknowledged urgent request is escalated"), default=15
    )
    escalation_contact = models.ForeignKey(
        "StaffMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalation contact (after the clinical lead)"),
    )
    message_response_text = models.CharField(
        _("message response time, as patients read it"),
        max_length=200,
        default=DEFAULT_RESPONSE_TEXT,
    )
    message_response_hours = models.PositiveSmallIntegerField(
        _("hours after which an unanswered message is overdue"), default=48
    )

    class Meta:
        verbose_name = _("program")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="program_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def _open_on(self, day: dt.date) -> bool:
        return str(day.weekday()) in self.office_days

    def is_closed_on(self, day: dt.date) -> bool:
        """Whether the whole day is a closure (holiday, training day) for this program."""
        return self.closures.filter(date=day).exists()

    def is_office_hours(self, moment: dt.datetime) -> bool:
        """Whether the office is open at this (aware) moment, in the program's time zone.

        The one place that decides it: urgent-contact routing (care team or on-call) and
        the after-hours auto-reply in messages both ask here. A closure day is after
        hours all day.
        """
        local = moment.astimezone(self.tzinfo)
        return (
            self._open_on(local.date())
            and self.office_opens_at <= local.time() < self.office_closes_at
            and not self.is_closed_on(local.date())
        )

    def next_office_opening(self, moment: dt.datetime) -> dt.datetime:
        """The next moment the office opens (``moment`` itself during office hours)."""
        if self.is_office_hours(moment):
            return moment
        local = moment.astimezone(self.tzinfo)
        day = local.date()
        if local.time() >= self.office_opens_at:
            day += dt.timedelta(days=1)
        horizon = day + dt.timedelta(days=CLOSURE_HORIZON_DAYS)
        closed = set(
            self.closures.filter(date__gte=day, date__lte=horizon).values_list("date", flat=True)
        )
        while day <= horizon:
            if self._open_on(day) and day not in closed:
                return dt.datetime.combine(day, self.office_opens_at, tzinfo=self.tzinfo)
            day += dt.timedelta(days=1)
        return moment  # no office days configured (or closed for a year): treat it as "now"


# How far ahead the next opening is looked for past closures.
CLOSURE_HORIZON_DAYS = 366


class ProgramClosure(models.Model):
    """A whole day the program's office is closed (a holiday, a training day).

    Urgent-contact requests raised that day go straight to the on-call clinician, and
    patient messages get the after-hours reply, as at night.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(_("date"))
    reason = models.CharField(
        _("reason"),
        max_length=100,
        blank=True,
        help_text=_("For staff, for example: Thanksgiving. Not shown to patients."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("program closure")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="program_closure_one_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id} closed {self.date.isoformat()}"


class StaffMember(models.Model):
    """A person who works for an organization, with one role."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", _("Clinician")
        CLINICAL_LEAD = "clinical_lead", _("Clinical lead")
        ON_CALL = "on_call", _("On-call clinician")
        FRONT_DESK = "front_desk", _("Front desk")
        PROGRAM_ADMIN = "program_admin", _("Program admin")
        PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")

    CLINICAL_ROLES = frozenset({Role.CLINICIAN, Role.CLINICAL_LEAD, Role.ON_CALL})

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="staff")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_member"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    title = models.CharField(_("credentials / title"), max_length=100, blank=True)
    programs = models.ManyToManyField(Program, related_name="staff", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("staff member")

    def __str__(self) -> str:
        return f"{self.user.get_full_name()} ({self.get_role_display()})"

    @property
    def is_clinical(self) -> bool:
        return self.role in self.CLINICAL_ROLES


class OnCallShift(models.Model):
    """Who is on call for a program, from when to when (the rota). While a shift covers
    the moment, urgent requests at the on-call level go to its staff member; with no
    shift then, they go to every on-call clinician of the program, as without a rota."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="on_call_shifts")
    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="on_call_shifts"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="on_call_shift_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["program", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"on-call shift #{self.pk}"
