"""Program admins: the program's crisis lines (and whether the line takes texts) and the
days its office is closed (urgent requests go to on-call all day)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from tether.accounts.models import User
from tether.crisis.forms import ClosureForm, CrisisLinesForm
from tether.lib.phones import display_phone
from tether.organizations import services
from tether.organizations.models import Program, ProgramClosure, StaffMember
from tether.organizations.selectors import upcoming_closures
from tether.staff.access import can_register_patients, staff_required

SETTINGS_EDITORS = frozenset({StaffMember.Role.PROGRAM_ADMIN})


def _program_for(request: HttpRequest, staff: StaffMember) -> tuple[Program, list[Program]]:
    programs = list(staff.programs.filter(is_active=True).order_by("name"))
    if not programs:
        raise Http404
    chosen = request.GET.get("program") or request.POST.get("program") or str(programs[0].pk)
    program = next((p for p in programs if str(p.pk) == chosen), None)
    if program is None:
        raise Http404
    return program, programs


def _lines_initial(program: Program) -> dict[str, object]:
    return {
        "crisis_line": display_phone(program.crisis_line),
        "crisis_line_takes_texts": program.crisis_line_takes_texts,
        "after_hours_line": display_phone(program.after_hours_line),
        "spanish_spoken": program.spanish_spoken,
    }


@staff_required
def program_settings(request: HttpRequest) -> HttpResponse:
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]
    if staff.role not in SETTINGS_EDITORS:
        raise Http404
    program, programs = _program_for(request, staff)
    user: User = request.user  # type: ignore[assignment]
    today = timezone.now().astimezone(program.tzinfo).date()
    here = f"{request.path}?program={program.pk}"
    lines_form = CrisisLinesForm(initial=_lines_initial(program))
    closure_form = ClosureForm(today=today)
    status = 200

    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "lines":
            lines_form = CrisisLinesForm(request.POST)
            if lines_form.is_valid():
                data = lines_form.cleaned_data
                services.program_crisis_lines_set(
                    program=program,
                    crisis_line=data["crisis_line"],
                    after_hours_line=data["after_hours_line"],
                    takes_texts=data["crisis_line_takes_texts"],
                    spanish_spoken=data["spanish_spoken"],
                    user=user,
                )
                flash.success(request, _("Crisis lines saved."))
                return redirect(here)
        elif action == "add_closure":
            closure_form = ClosureForm(request.POST, today=today)
            if closure_form.is_valid():
                day = closure_form.cleaned_data["date"]
                try:
                    services.program_closure_add(
                        program=program,
                        date=day,
                        reason=closure_form.cleaned_data["reason"],
                        user=user,
                    )
                except services.ClosureExistsError:
                    closure_form.add_error("date", _("The office is already closed that day."))
                else:
                    flash.success(
                        request,
                        _("The office is closed on %(day)s.")
                        % {"day": date_format(day, "DATE_FORMAT")},
                    )
                    return redirect(here)
        elif action == "remove_closure":
            closure_id = request.POST.get("closure", "")
            closure = (
                ProgramClosure.objects.filter(pk=int(closure_id), program=program).first()
                if closure_id.isascii() and closure_id.isdigit()
                else None
            )
            if closure is None:
                raise Http404
            services.program_closure_remove(closure=closure, user=user)
            flash.success(
                request,
                _("The office is open on %(day)s again.")
                % {"day": date_format(closure.date, "DATE_FORMAT")},
            )
            return redirect(here)
        status = 400

    return render(
        request,
        "crisis/staff/program_settings.html",
        {
            "nav": "program_settings",
            "can_register_patients": can_register_patients(staff),
            "programs": programs,
            "program": program,
            "lines_form": lines_form,
            "closure_form": closure_form,
            "closures": upcoming_closures(program=program, since=today),
            "today": today,
        },
        status=status,
    )
