"""The schedule: the program's week, recurring groups and their rosters, booking,
changing and cancelling sessions, taking attendance; and the patient's own sessions.

Who may do what (the names of patients always come through the privacy gate):

- the week (times, rooms, facilitators, how many are booked; no names): staff of the
  program;
- laying out a group, changing or cancelling a session: the program's front desk,
  clinical lead and admin, and the session's own clinician;
- a roster and attendance: the people the gate lets write ``general`` records of each
  patient (care team, front desk, clinical lead), on a session of their program or
  their own; everyone else gets a 404.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.accounts.models import User
from tether.organizations.models import Program, StaffMember
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.gate import access_own_record, access_patient, patients_visible_to
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling import imports, selectors, services
from tether.scheduling.forms import (
    BookForm,
    CancelForm,
    ChangeForm,
    SeriesChangeForm,
    SeriesForm,
)
from tether.scheduling.models import Appointment, Attendance, GroupSeries, RosterEntry
from tether.staff.access import can_register_patients, staff_required

SCHEDULERS = frozenset(
    {StaffMember.Role.FRONT_DESK, StaffMember.Role.CLINICAL_LEAD, StaffMember.Role.PROGRAM_ADMIN}
)
# The choices on the attendance screen, in the order they are shown.
MARKS = [
    (Attendance.Status.ATTENDED, _("Here")),
    (Attendance.Status.LATE, _("Late")),
    (Attendance.Status.LEFT_EARLY, _("Left early")),
    (Attendance.Status.EXCUSED, _("Excused")),
    (Attendance.Status.ABSENT, _("Absent")),
]


def _staff(request: HttpRequest) -> StaffMember:
    return request.staff_member  # type: ignore[attr-defined, no-any-return]  # set by staff_required


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # signed in: staff_required / login_required


def _programs(staff: StaffMember) -> list[Program]:
    return list(staff.programs.filter(is_active=True).order_by("name"))


def _program_for(request: HttpRequest, staff: StaffMember) -> tuple[Program, list[Program]]:
    programs = _programs(staff)
    if not programs:
        raise Http404
    chosen = request.GET.get("program") or request.POST.get("program") or str(programs[0].pk)
    program = next((p for p in programs if str(p.pk) == chosen), None)
    if program is None:
        raise Http404
    return program, programs


def _may_schedule(staff: StaffMember, program: Program) -> bool:
    return staff.role in SCHEDULERS and program.staff.filter(pk=staff.pk).exists()


def _deny(request: HttpRequest, action: Action = Action.VIEW) -> Http404:
    audit.record_denied(
        request, patient=None, category=Category.GENERAL, action=action, purpose=Purpose.TREATMENT
    )
    return Http404()


def _appointment(request: HttpRequest, appointment_id: int, staff: StaffMember) -> Appointment:
    """A session of the staff member's programs, or one they run; else 404."""
    appointment = (
        Appointment.objects.filter(pk=appointment_id, organization_id=staff.organization_id)
        .filter(Q(program__in=staff.programs.all()) | Q(clinician=staff))
        .select_related("program", "clinician__user", "series")
        .first()
    )
    if appointment is None:
        raise _deny(request)
    return appointment


def _context(staff: StaffMember, **extra: object) -> dict[str, object]:
    return {"nav": "schedule", "can_register_patients": can_register_patients(staff), **extra}


def _error_status(problems: list[str], request: HttpRequest) -> None:
    for problem in problems:
        flash.error(request, problem)


@staff_required
def week(request: HttpRequest) -> HttpResponse:
    """The program's sessions for one week (Monday to Sunday, program time)."""
    staff = _staff(request)
    program, programs = _program_for(request, staff)
    today = timezone.now().astimezone(program.tzinfo).date()
    try:
        shown = (
            dt.date.fromisoformat(request.GET.get("week", "")) if request.GET.get("week") else today
        )
    except ValueError:
        shown = today
    monday = shown - dt.timedelta(days=shown.weekday())
    sessions = selectors.week_for(program=program, monday=monday)
    days = [
        (
            monday + dt.timedelta(days=n),
            [s for s in sessions if s.local_day == monday + dt.timedelta(days=n)],
        )
        for n in range(7)
    ]
    return render(
        request,
        "scheduling/week.html",
        _context(
            staff,
            program=program,
            programs=programs,
            monday=monday,
            days=days,
            previous=monday - dt.timedelta(days=7),
            following=monday + dt.timedelta(days=7),
            may_schedule=_may_schedule(staff, program),
            may_import=staff.role in IMPORTERS,
            series=GroupSeries.objects.filter(program=program, last_day__gte=today).order_by(
                "title", "pk"
            ),
        ),
    )


@staff_required
def series_new(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    program, programs = _program_for(request, staff)
    if not _may_schedule(staff, program):
        raise _deny(request, Action.CREATE)
    status = 200
    form = SeriesForm(program=program)
    problems: list[str] = []
    if request.method == "POST":
        form = SeriesForm(request.POST, program=program)
        if form.is_valid():
            data = form.cleaned_data
            try:
                series = services.series_create(
                    program=program,
                    title=data["title"],
                    weekdays=form.weekday_code(),
                    starts_at_time=data["starts_at_time"],
                    minutes=data["minutes"],
                    first_day=data["first_day"],
                    last_day=data["last_day"],
                    facilitator=data["facilitator"],
                    location=data["location"],
                    video_url=data["video_url"],
                    user=_user(request),
                )
            except services.ScheduleError as error:
                problems = error.problems
            else:
                flash.success(
                    request,
                    _("%(title)s is on the schedule: %(count)d meetings.")
                    % {"title": series.title, "count": series.occurrences.count()},
                )
                return redirect("scheduling:series_detail", series.pk)
        status = 400
    return render(
        request,
        "scheduling/series_new.html",
        _context(staff, program=program, programs=programs, form=form, problems=problems),
        status=status,
    )


@staff_required
def series_detail(request: HttpRequest, series_id: int) -> HttpResponse:
    """A group: its meetings still to come and its roster (names through the gate)."""
    staff = _staff(request)
    user = _user(request)
    series = (
        GroupSeries.objects.filter(pk=series_id, organization_id=staff.organization_id)
        .filter(Q(program__in=staff.programs.all()) | Q(facilitator=staff))
        .select_related("program", "facilitator__user")
        .first()
    )
    if series is None:
        raise _deny(request)
    may_write = patients_visible_to(user, category=Category.GENERAL, action=Action.CREATE)
    may_change = _may_schedule(staff, series.program)
    change_form = SeriesChangeForm(
        program=series.program,
        initial={
            "facilitator": series.facilitator_id,
            "location": series.location,
            "video_url": series.video_url,
        },
    )
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        patient_id = request.POST.get("patient", "")
        if action == "change":
            if not may_change:
                raise _deny(request, Action.UPDATE)
            change_form = SeriesChangeForm(request.POST, program=series.program)
            status = 400
            if change_form.is_valid():
                try:
                    count = services.series_change_future(
                        series=series,
                        facilitator=change_form.cleaned_data["facilitator"],
                        location=change_form.cleaned_data["location"],
                        video_url=change_form.cleaned_data["video_url"],
                        user=user,
                    )
                except services.ScheduleError as error:
                    problems = error.problems
                else:
                    flash.success(
                        request,
                        _("%(count)d meetings to come changed; past ones stay as they were.")
                        % {"count": count},
                    )
                    return redirect("scheduling:series_detail", series.pk)
        elif action == "end":
            if not may_change:
                raise _deny(request, Action.UPDATE)
            status = 400
            if request.POST.get("confirm") != "on":
                problems = [_("Tick the box to confirm the group ends.")]
            else:
                try:
                    count = services.series_end(series=series, user=user)
                except services.ScheduleError as error:
                    problems = error.problems
                else:
                    flash.success(
                        request,
                        _(
                            "The group has ended: %(count)d meetings to come are cancelled and "
                            "its patients see it now. Past meetings stay as they were."
                        )
                        % {"count": count},
                    )
                    return redirect("scheduling:series_detail", series.pk)
        elif action == "add":
            patient = access_patient(
                request,
                patient_id,
                category=Category.GENERAL,
                action=Action.CREATE,
                purpose=Purpose.TREATMENT,
            )
            try:
                services.roster_add(series=series, patient=patient, user=user)
            except services.ScheduleError as error:
                problems = error.problems
                status = 400
            else:
                flash.success(
                    request,
                    _("%(name)s is on the roster.") % {"name": patient.display_name},
                )
                return redirect("scheduling:series_detail", series.pk)
        elif action == "remove":
            patient = access_patient(
                request,
                patient_id,
                category=Category.GENERAL,
                action=Action.UPDATE,
                purpose=Purpose.TREATMENT,
            )
            entry = RosterEntry.objects.filter(
                series=series, patient=patient, removed_at__isnull=True
            ).first()
            if entry is None:
                raise Http404
            services.roster_remove(entry=entry, user=user)
            flash.success(
                request,
                _("%(name)s is off the roster from now on; past attendance is kept.")
                % {"name": patient.display_name},
            )
            return redirect("scheduling:series_detail", series.pk)
        else:
            raise Http404
    roster = selectors.roster_for(series=series, visible=may_write)
    visible_ids = {entry.patient_id for entry in roster}
    hidden = RosterEntry.objects.filter(series=series, removed_at__isnull=True).count() - len(
        roster
    )
    candidates = list(
        may_write.filter(episodes__program=series.program, episodes__status=Episode.Status.ACTIVE)
        .exclude(pk__in=visible_ids)
        .order_by("last_name", "first_name", "pk")
        .distinct()
    )
    audit.record_many(
        request=request,
        actor=user,
        patients=[entry.patient for entry in roster],
        action=Action.VIEW,
        category=Category.GENERAL,
        purpose=Purpose.TREATMENT,
        object_type="scheduling.roster",
    )
    return render(
        request,
        "scheduling/series_detail.html",
        _context(
            staff,
            series=series,
            roster=roster,
            hidden=hidden,
            candidates=candidates,
            upcoming=selectors.upcoming_occurrences(series=series),
            problems=problems,
            may_change=may_change,
            change_form=change_form,
        ),
        status=status,
    )


@staff_required
def session_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """One session: who is booked, and (for schedulers and its clinician) change or cancel."""
    staff = _staff(request)
    user = _user(request)
    appointment = _appointment(request, appointment_id, staff)
    may_change = _may_schedule(staff, appointment.program) or appointment.clinician_id == staff.pk
    change_form = ChangeForm(
        program=appointment.program,
        initial={
            "day": appointment.starts_at.astimezone(appointment.program.tzinfo).date(),
            "starts_at_time": appointment.starts_at.astimezone(appointment.program.tzinfo).time(),
            "minutes": int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
            "location": appointment.location,
            "video_url": appointment.video_url,
        },
    )
    cancel_form = CancelForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if not may_change:
            raise _deny(request, Action.UPDATE)
        action = request.POST.get("action", "")
        try:
            if action == "change":
                change_form = ChangeForm(request.POST, program=appointment.program)
                if change_form.is_valid():
                    services.session_change(
                        appointment=appointment,
                        starts_at=change_form.starts_at(),
                        minutes=change_form.cleaned_data["minutes"],
                        location=change_form.cleaned_data["location"],
                        video_url=change_form.cleaned_data["video_url"],
                        user=user,
                    )
                    flash.success(request, _("Session changed. Its patients see the change now."))
                    return redirect("scheduling:session_detail", appointment.pk)
            elif action == "cancel":
                cancel_form = CancelForm(request.POST)
                if cancel_form.is_valid():
                    services.session_cancel(
                        appointment=appointment,
                        reason=cancel_form.cleaned_data["reason"],
                        user=user,
                    )
                    flash.success(request, _("Session cancelled. Its patients see it now."))
                    return redirect("scheduling:session_detail", appointment.pk)
            else:
                raise Http404
        except services.ScheduleError as error:
            problems = error.problems
        status = 400
    visible = patients_visible_to(user, category=Category.GENERAL, action=Action.VIEW)
    booked = selectors.attendance_for(appointment=appointment, visible=visible)
    hidden = Attendance.objects.filter(appointment=appointment).count() - len(booked)
    audit.record_many(
        request=request,
        actor=user,
        patients=[row.patient for row in booked],
        action=Action.VIEW,
        category=Category.GENERAL,
        purpose=Purpose.TREATMENT,
        object_type="scheduling.session",
    )
    now = timezone.now()
    return render(
        request,
        "scheduling/session_detail.html",
        _context(
            staff,
            appointment=appointment,
            booked=booked,
            hidden=hidden,
            may_change=may_change and not appointment.is_cancelled and appointment.starts_at > now,
            attendance_open=not appointment.is_cancelled
            and appointment.starts_at - services.ATTENDANCE_OPENS_BEFORE <= now,
            change_form=change_form,
            cancel_form=cancel_form,
            problems=problems,
        ),
        status=status,
    )


def _marks_from(post: QueryDict) -> dict[int, services.Mark]:
    """``mark-<patient id>`` → status, ``reason-<patient id>`` → reason (absences only)."""
    marks: dict[int, services.Mark] = {}
    for key in post:
        raw = key.removeprefix("mark-")
        if key == raw or not raw.isdigit():
            continue
        status = post.get(key, "") or ""
        reason = post.get(f"reason-{raw}", "") or ""
        if status not in Attendance.ABSENT_STATUSES:
            reason = ""
        marks[int(raw)] = services.Mark(status=str(status), absence_reason=str(reason))
    return marks


@staff_required
def attendance(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Take attendance: everyone starts as "here"; tap only the people who are not."""
    staff = _staff(request)
    user = _user(request)
    appointment = _appointment(request, appointment_id, staff)
    may_mark = patients_visible_to(user, category=Category.GENERAL, action=Action.UPDATE)
    rows = selectors.attendance_for(appointment=appointment, visible=may_mark)
    if not rows or staff.role not in (
        StaffMember.Role.CLINICIAN,
        StaffMember.Role.CLINICAL_LEAD,
        StaffMember.Role.FRONT_DESK,
    ):
        raise _deny(request, Action.UPDATE)
    hidden = Attendance.objects.filter(appointment=appointment).count() - len(rows)
    problems: list[str] = []
    status = 200
    posted: dict[int, services.Mark] = {}
    if request.method == "POST":
        posted = _marks_from(request.POST)
        try:
            saved = services.attendance_take(
                appointment=appointment,
                marks=posted,
                allowed_patient_ids=[row.patient_id for row in rows],
                staff=staff,
                user=user,
            )
        except services.ScheduleError as error:
            problems = error.problems
            status = 400
        else:
            flash.success(
                request,
                _("Attendance saved for %(count)d people (%(changed)d changed).")
                % {"count": len(posted), "changed": len(saved)},
            )
            return redirect("scheduling:session_detail", appointment.pk)
    else:
        audit.record_many(
            request=request,
            actor=user,
            patients=[row.patient for row in rows],
            action=Action.VIEW,
            category=Category.GENERAL,
            purpose=Purpose.TREATMENT,
            object_type="scheduling.attendance",
        )
    people = []
    for row in rows:
        mark = posted.get(row.patient_id)
        current = mark.status if mark else row.status
        if current == Attendance.Status.SCHEDULED:
            current = Attendance.Status.ATTENDED
        people.append(
            {
                "row": row,
                "current": current,
                "reason": mark.absence_reason if mark else row.absence_reason,
            }
        )
    return render(
        request,
        "scheduling/attendance.html",
        _context(
            staff,
            appointment=appointment,
            people=people,
            hidden=hidden,
            marks=MARKS,
            reasons=Attendance.AbsenceReason.choices,
            problems=problems,
        ),
        status=status,
    )


@staff_required
def book(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Book an individual or family session for one patient."""
    staff = _staff(request)
    user = _user(request)
    patient: Patient = access_patient(
        request,
        patient_id,
        category=Category.GENERAL,
        action=Action.CREATE,
        purpose=Purpose.TREATMENT,
    )
    episode = (
        Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE)
        .select_related("program")
        .first()
    )
    if episode is None:
        raise Http404
    program = episode.program
    form = BookForm(program=program)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        form = BookForm(request.POST, program=program)
        if form.is_valid():
            data = form.cleaned_data
            try:
                appointment = services.session_book(
                    program=program,
                    patient=patient,
                    kind=data["kind"],
                    starts_at=form.starts_at(),
                    minutes=data["minutes"],
                    clinician=data["clinician"],
                    location=data["location"],
                    video_url=data["video_url"],
                    user=user,
                )
            except services.ScheduleError as error:
                problems = error.problems
            else:
                flash.success(request, _("Session booked. The patient sees it now."))
                return redirect("scheduling:session_detail", appointment.pk)
        status = 400
    return render(
        request,
        "scheduling/book.html",
        _context(staff, patient=patient, program=program, form=form, problems=problems),
        status=status,
    )


@login_required
def my_sessions(request: HttpRequest) -> HttpResponse:
    """The patient's sessions to come (cancelled and changed ones marked, video links
    shown) and their recent attendance."""
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    return render(
        request,
        "scheduling/my_sessions.html",
        {
            "nav": "sessions",
            "upcoming": selectors.sessions_ahead(patient=patient),
            "past": selectors.sessions_behind(patient=patient),
        },
    )


IMPORTERS = frozenset({StaffMember.Role.FRONT_DESK, StaffMember.Role.CLINICAL_LEAD})
_READERS = {"csv": imports.read_csv, "ics": imports.read_ics}


@staff_required
def schedule_import(request: HttpRequest) -> HttpResponse:
    """Bring in sessions from a CSV or .ics file: a preview with every row's problems,
    then all of them saved together, or none."""
    staff = _staff(request)
    user = _user(request)
    program, programs = _program_for(request, staff)
    if staff.role not in IMPORTERS:
        raise _deny(request, Action.CREATE)
    context = _context(staff, program=program, programs=programs)
    if request.method != "POST":
        return render(request, "scheduling/import.html", context)
    step = request.POST.get("step", "")
    fmt = request.POST.get("format", "")
    if step == "preview":
        upload = request.FILES.get("file")
        data = upload.read() if upload is not None else b""
        name = ((upload.name or "") if upload is not None else "").lower()
        fmt = "ics" if name.endswith(".ics") else "csv"
    else:
        try:
            data = base64.b64decode(request.POST.get("content", ""), validate=True)
        except (ValueError, binascii.Error):
            data = b""
    if not data or fmt not in _READERS:
        context["file_problem"] = _("Choose a .csv or .ics file to upload.")
        return render(request, "scheduling/import.html", context, status=400)
    try:
        rows = _READERS[fmt](data, program=program)
    except imports.FileError as error:
        context["file_problem"] = str(error)
        return render(request, "scheduling/import.html", context, status=400)
    result = imports.sessions_import(
        program=program,
        rows=rows,
        bookable=patients_visible_to(user, category=Category.GENERAL, action=Action.CREATE),
        user=user,
        save=step == "import",
    )
    if result.saved:
        flash.success(
            request,
            _("%(count)d sessions imported. Their patients see them now.")
            % {"count": result.saved},
        )
        return redirect(f"{reverse('scheduling:week')}?program={program.pk}")
    shown = list({row.patient.pk: row.patient for row in rows if row.patient}.values())
    audit.record_many(
        request=request,
        actor=user,
        patients=shown,
        action=Action.VIEW,
        category=Category.GENERAL,
        purpose=Purpose.TREATMENT,
        object_type="scheduling.import_preview",
    )
    context.update(
        result=result,
        content=base64.b64encode(data).decode("ascii"),
        format=fmt,
        problems=[_("Nothing was saved: fix the rows below and upload the file again.")]
        if result.has_problems and step == "import"
        else [],
    )
    return render(
        request,
        "scheduling/import.html",
        context,
        status=400 if result.has_problems else 200,
    )
