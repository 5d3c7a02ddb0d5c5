"""Program set-up pages: the program admin's questionnaires and on-call rota, and the
care team of a patient (clinical lead and program admin)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tether.accounts.models import User
from tether.lib.forms import PhoneField
from tether.organizations import setup
from tether.organizations.models import OnCallShift, Program, StaffMember
from tether.patients.models import CareTeamMember, Episode
from tether.privacy import audit
from tether.privacy.gate import access_patient
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling.forms import StaffChoiceField, clinicians_of
from tether.staff.access import can_register_patients, staff_required


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class ShiftForm(forms.Form):
    staff_member = StaffChoiceField(
        label=gettext_lazy("Clinician on call"), queryset=StaffMember.objects.none()
    )
    starts_at = forms.DateTimeField(label=gettext_lazy("From"), widget=DateTimeInput)
    ends_at = forms.DateTimeField(label=gettext_lazy("Until"), widget=DateTimeInput)

    def __init__(self, *args: object, program: Program, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # Form's own arguments
        self.program = program
        self.fields["staff_member"].queryset = clinicians_of(program)  # type: ignore[attr-defined]  # a ModelChoiceField

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for name in ("starts_at", "ends_at"):  # typed on the program's clock
            if isinstance(data.get(name), dt.datetime):
                data[name] = data[name].replace(tzinfo=self.program.tzinfo)
        return data


class TeamForm(forms.Form):
    staff_member = StaffChoiceField(
        label=gettext_lazy("Clinician"), queryset=StaffMember.objects.none()
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role on the team"), choices=CareTeamMember.Role.choices
    )

    def __init__(self, *args: object, program: Program, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # Form's own arguments
        self.fields["staff_member"].queryset = clinicians_of(program)  # type: ignore[attr-defined]  # a ModelChoiceField


TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)
DAY_CHOICES = [
    ("0", gettext_lazy("Monday")),
    ("1", gettext_lazy("Tuesday")),
    ("2", gettext_lazy("Wednesday")),
    ("3", gettext_lazy("Thursday")),
    ("4", gettext_lazy("Friday")),
    ("5", gettext_lazy("Saturday")),
    ("6", gettext_lazy("Sunday")),
]


class TimeInput(forms.TimeInput):
    input_type = "time"


class OfficeHoursForm(forms.Form):
    office_opens_at = forms.TimeField(label=gettext_lazy("Office opens at"), widget=TimeInput)
    office_closes_at = forms.TimeField(label=gettext_lazy("Office closes at"), widget=TimeInput)
    office_days = forms.MultipleChoiceField(
        label=gettext_lazy("Days the office is open"),
        choices=DAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    def days(self) -> str:
        return "".join(sorted(self.cleaned_data["office_days"]))


class ProgramForm(OfficeHoursForm):
    name = forms.CharField(label=gettext_lazy("Name of the program"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Program.Kind.choices)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"), choices=[(z, z) for z in TIME_ZONES]
    )
    crisis_line = PhoneField(
        label=gettext_lazy("Program crisis line (answered around the clock)"),
        allow_short_codes=True,
    )
    after_hours_line = PhoneField(
        label=gettext_lazy("After-hours on-call number (optional)"),
        required=False,
        allow_short_codes=True,
    )
    field_order = [
        "name",
        "kind",
        "time_zone",
        "crisis_line",
        "after_hours_line",
        "office_opens_at",
        "office_closes_at",
        "office_days",
    ]


def _deny(request: HttpRequest) -> Http404:
    audit.record_denied(
        request,
        patient=None,
        category=Category.GENERAL,
        action=Action.UPDATE,
        purpose=Purpose.OPERATIONS,
    )
    return Http404()


@staff_required
def program_setup(request: HttpRequest) -> HttpResponse:
    from tether.checkins.models import Instrument, ProgramInstrument

    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]  # set by staff_required
    user: User = request.user  # type: ignore[assignment]  # signed in
    if staff.role != StaffMember.Role.PROGRAM_ADMIN:
        raise _deny(request)
    programs = list(staff.programs.filter(is_active=True).order_by("name"))
    chosen = request.GET.get("program") or request.POST.get("program") or ""
    if not programs and not chosen:
        return redirect("program:new")  # a new organization: its first program
    program = next((p for p in programs if str(p.pk) == chosen), programs[0] if programs else None)
    if program is None or (chosen and str(program.pk) != chosen):
        raise _deny(request)
    here = f"{request.path}?program={program.pk}"
    shift_form = ShiftForm(program=program)
    hours_form = OfficeHoursForm(
        initial={
            "office_opens_at": program.office_opens_at,
            "office_closes_at": program.office_closes_at,
            "office_days": list(program.office_days),
        }
    )
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "instrument":
                setup.program_instrument_set(
                    program=program,
                    instrument_code=request.POST.get("instrument", ""),
                    schedule=request.POST.get("schedule", ""),
                    user=user,
                )
                flash.success(request, _("Saved. Patients see the change at once."))
                return redirect(here)
            if action == "access_days":
                raw = request.POST.get("days", "").strip()
                if not raw.isdigit():
                    raise setup.SetupError(
                        [_("Choose from 0 to %(max)d days.") % {"max": setup.MAX_ACCESS_DAYS}]
                    )
                setup.program_access_days_set(program=program, days=int(raw), user=user)
                flash.success(request, _("Saved for discharges from now on."))
                return redirect(here)
            if action == "add_shift":
                shift_form = ShiftForm(request.POST, program=program)
                if shift_form.is_valid():
                    data = shift_form.cleaned_data
                    setup.on_call_shift_add(
                        program=program,
                        staff_member=data["staff_member"],
                        starts_at=data["starts_at"],
                        ends_at=data["ends_at"],
                        user=user,
                    )
                    flash.success(request, _("The shift is on the rota."))
                    return redirect(here)
            elif action == "office_hours":
                hours_form = OfficeHoursForm(request.POST)
                if hours_form.is_valid():
                    setup.program_office_hours_set(
                        program=program,
                        opens=hours_form.cleaned_data["office_opens_at"],
                        closes=hours_form.cleaned_data["office_closes_at"],
                        days=hours_form.days(),
                        user=user,
                    )
                    flash.success(request, _("Office hours saved."))
                    return redirect(here)
            elif action == "remove_shift":
                shift = OnCallShift.objects.filter(
                    program=program, pk=request.POST.get("shift") or 0
                ).first()
                if shift is None:
                    raise Http404
                setup.on_call_shift_remove(shift=shift, user=user)
                flash.success(request, _("The shift is off the rota."))
                return redirect(here)
            else:
                raise Http404
        except setup.SetupError as error:
            problems = error.problems
        status = 400
    schedules = {
        row.instrument_code: row.schedule if row.is_active else setup.OFF
        for row in ProgramInstrument.objects.filter(program=program)
    }
    instruments = [
        {"instrument": i, "schedule": schedules.get(i.code, setup.OFF)}
        for i in Instrument.objects.filter(is_current=True).order_by("code")
    ]
    choices = [(setup.OFF, _("Not asked")), *ProgramInstrument.Schedule.choices]
    shifts = list(
        OnCallShift.objects.filter(program=program, ends_at__gt=timezone.now())
        .select_related("staff_member__user")
        .order_by("starts_at")
    )
    return render(
        request,
        "organizations/program_setup.html",
        {
            "nav": "program_setup",
            "can_register_patients": can_register_patients(staff),
            "programs": programs,
            "program": program,
            "instruments": instruments,
            "choices": choices,
            "shifts": shifts,
            "shift_form": shift_form,
            "hours_form": hours_form,
            "problems": problems,
            "days_typed": request.POST.get("days", "") if status == 400 else "",
        },
        status=status,
    )


@staff_required
def program_new(request: HttpRequest) -> HttpResponse:
    """A program admin adds a program to their organization (the first one of a new
    organization, or another), then sets it up on the set-up page."""
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]  # set by staff_required
    user: User = request.user  # type: ignore[assignment]  # signed in
    if staff.role != StaffMember.Role.PROGRAM_ADMIN:
        raise _deny(request)
    form = ProgramForm(
        request.POST or None,
        initial={
            "time_zone": TIME_ZONES[0],
            "office_opens_at": dt.time(9),
            "office_closes_at": dt.time(17),
            "office_days": list("01234"),
        },
    )
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                program = setup.program_create(
                    admin=staff,
                    user=user,
                    name=data["name"],
                    kind=data["kind"],
                    time_zone=data["time_zone"],
                    crisis_line=data["crisis_line"],
                    after_hours_line=data["after_hours_line"],
                    office_opens_at=data["office_opens_at"],
                    office_closes_at=data["office_closes_at"],
                    office_days=form.days(),
                )
            except setup.SetupError as error:
                problems = error.problems
            else:
                flash.success(
                    request,
                    _("%(name)s is set up. Choose its questionnaires and on-call rota below.")
                    % {"name": program.name},
                )
                return redirect(f"{reverse('program:setup')}?program={program.pk}")
    return render(
        request,
        "organizations/program_new.html",
        {
            "nav": "program_setup",
            "can_register_patients": can_register_patients(staff),
            "form": form,
            "problems": problems,
        },
        status=status,
    )


@staff_required
def care_team(request: HttpRequest, patient_id: int) -> HttpResponse:
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]  # set by staff_required
    user: User = request.user  # type: ignore[assignment]  # signed in
    if staff.role not in (StaffMember.Role.CLINICAL_LEAD, StaffMember.Role.PROGRAM_ADMIN):
        raise _deny(request)
    # Looking: the lead and the admin (the gate's "view"). Changing the team: the gate's
    # "update" of the patient's general record, which the clinical lead has and the
    # program admin (read only on patient records) does not.
    writing = request.method == "POST"
    patient = access_patient(
        request,
        patient_id,
        category=Category.GENERAL,
        action=Action.UPDATE if writing else Action.VIEW,
        purpose=Purpose.OPERATIONS,
    )
    episode = (
        Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE)
        .select_related("program")
        .first()
    )
    if episode is None:
        raise Http404
    form = TeamForm(program=episode.program)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "assign":
                form = TeamForm(request.POST, program=episode.program)
                if form.is_valid():
                    setup.care_team_assign(
                        episode=episode,
                        staff_member=form.cleaned_data["staff_member"],
                        role=form.cleaned_data["role"],
                        user=user,
                    )
                    flash.success(request, _("Added to the care team."))
                    return redirect("program:care_team", patient.pk)
            elif action == "end":
                member = CareTeamMember.objects.filter(
                    episode=episode, pk=request.POST.get("member") or 0, ended_on__isnull=True
                ).first()
                if member is None:
                    raise Http404
                setup.care_team_end(member=member, user=user)
                flash.success(request, _("Taken off the care team."))
                return redirect("program:care_team", patient.pk)
            else:
                raise Http404
        except setup.SetupError as error:
            problems = error.problems
        status = 400
    members = list(
        CareTeamMember.objects.filter(episode=episode, ended_on__isnull=True)
        .select_related("staff_member__user")
        .order_by("pk")
    )
    return render(
        request,
        "organizations/care_team.html",
        {
            "nav": "dashboard",
            "can_register_patients": can_register_patients(staff),
            "patient": patient,
            "episode": episode,
            "members": members,
            "form": form,
            "may_change": staff.role == StaffMember.Role.CLINICAL_LEAD,
            "problems": problems,
        },
        status=status,
    )
