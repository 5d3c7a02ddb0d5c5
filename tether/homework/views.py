"""Homework: the patient does it step by step; the care team assigns and reviews it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tether.accounts.models import User
from tether.family import selectors as family_selectors
from tether.homework import selectors, services
from tether.homework.forms import AssignForm, FeedbackForm, StepForm
from tether.homework.models import Assignment
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.gate import access_own_record, access_patient, patients_visible_to
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category
from tether.scheduling.models import Appointment, Attendance
from tether.staff.access import staff_required


def _own_patient(request: HttpRequest, *, category: Category, action: Action) -> Patient:
    return access_own_record(request, category=category, action=action)


def _assignment_of(
    request: HttpRequest,
    patient: Patient,
    assignment_id: int,
    *,
    category: Category,
    action: Action,
    purpose: Purpose,
) -> Assignment:
    """The patient's assignment, or 404 (a denied event if it is someone else's)."""
    assignment = (
        Assignment.objects.filter(pk=assignment_id)
        .select_related("patient", "feedback_by", "assigned_by")
        .first()
    )
    if assignment is None or assignment.patient_id != patient.pk:
        audit.record(
            request=request,
            actor=request.user,  # type: ignore[arg-type]
            patient=assignment.patient if assignment is not None else None,
            action=action,
            category=category,
            purpose=purpose,
            outcome=AuditEvent.Outcome.DENIED,
            obj=assignment,
        )
        raise Http404
    return assignment


# --- The patient ---------------------------------------------------------------------


@login_required
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request, category=Category.SHARED, action=Action.VIEW)
    assignments = list(selectors.for_patient(patient=patient))
    return render(
        request,
        "homework/patient_list.html",
        {
            "nav": "homework",
            # What is still to do in the home card's order; what is done, latest first.
            "open": selectors.in_open_order([a for a in assignments if not a.is_done]),
            "done": [a for a in assignments if a.is_done],
        },
    )


@login_required
def patient_step(request: HttpRequest, assignment_id: int, step: int) -> HttpResponse:
    writing = request.method == "POST"
    patient = _own_patient(
        request,
        category=Category.SELF_REPORT,
        action=Action.UPDATE if writing else Action.VIEW,
    )
    assignment = _assignment_of(
        request,
        patient,
        assignment_id,
        category=Category.SELF_REPORT,
        action=Action.UPDATE if writing else Action.VIEW,
        purpose=Purpose.PATIENT_REQUEST,
    )
    steps = assignment.parsed().expanded_steps(assignment.starts_on)
    if not 1 <= step <= len(steps):
        raise Http404
    current = steps[step - 1]
    saved = selectors.answers_for(assignment=assignment)
    if writing:
        form = StepForm(request.POST, step=current)
        if form.is_valid():
            services.answers_save(
                assignment=assignment,
                actor=request.user,  # type: ignore[arg-type]
                values=form.answers(step),
                purpose=Purpose.PATIENT_REQUEST,
            )
            if request.POST.get("then") == "later":
                messages.success(request, _("Saved. You can come back to it any time."))
                return redirect("homework:patient_list")
            if request.POST.get("then") == "back" and step > 1:
                return redirect("homework:patient_step", assignment.pk, step - 1)
            if step < len(steps):
                return redirect("homework:patient_step", assignment.pk, step + 1)
            return redirect("homework:patient_review", assignment.pk)
    else:
        initial = {f.key: saved.get(f"{step}.{f.key}") for f in current.fields}
        form = StepForm(initial={k: v for k, v in initial.items() if v is not None}, step=current)
    return render(
        request,
        "homework/patient_step.html",
        {
            "nav": "homework",
            "assignment": assignment,
            "definition": assignment.parsed(),
            "form": form,
            "step": current,
            "number": step,
            "count": len(steps),
            "is_last": step == len(steps),
        },
    )


@login_required
def patient_review(request: HttpRequest, assignment_id: int) -> HttpResponse:
    writing = request.method == "POST"
    patient = _own_patient(
        request, category=Category.SHARED, action=Action.UPDATE if writing else Action.VIEW
    )
    assignment = _assignment_of(
        request,
        patient,
        assignment_id,
        category=Category.SHARED,
        action=Action.UPDATE if writing else Action.VIEW,
        purpose=Purpose.PATIENT_REQUEST,
    )
    if writing:
        services.assignment_complete(
            assignment=assignment,
            actor=request.user,  # type: ignore[arg-type]
            purpose=Purpose.PATIENT_REQUEST,
        )
        messages.success(request, _("Well done. Your care team can now see it."))
        return redirect("homework:patient_list")
    answers = selectors.answers_for(assignment=assignment)
    return render(
        request,
        "homework/patient_review.html",
        {
            "nav": "homework",
            "assignment": assignment,
            "steps": selectors.answered_steps(assignment=assignment, answers=answers),
        },
    )


# --- The care team -------------------------------------------------------------------


def _check_labels(request: HttpRequest, patient: Patient, labels: set[str]) -> None:
    """The page shows records labelled Part 2 at capture: ask the gate for that too
    (audited; ``Http404`` for a program lead or on-call clinician, who have no Part 2)."""
    if Category.PART2.value in labels:
        access_patient(
            request,
            patient.pk,
            category=Category.PART2,
            action=Action.VIEW,
            purpose=Purpose.TREATMENT,
        )


def _programs_of(patient: Patient) -> list[Any]:
    return [
        e.program
        for e in Episode.objects.filter(
            patient=patient, status=Episode.Status.ACTIVE
        ).select_related("program")
    ]


@staff_required
@require_GET
def staff_list(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient(
        request, patient_id, category=Category.SHARED, action=Action.VIEW, purpose=Purpose.TREATMENT
    )
    assignments = list(selectors.for_patient(patient=patient))
    _check_labels(request, patient, {a.record_category for a in assignments})
    return render(
        request,
        "homework/staff_list.html",
        {
            "patient": patient,
            "assignments": assignments,
            "completion": selectors.window_completion(patient=patient),
        },
    )


@staff_required
def staff_assign(request: HttpRequest, patient_id: int) -> HttpResponse:
    writing = request.method == "POST"
    patient = access_patient(
        request,
        patient_id,
        category=Category.SHARED,
        action=Action.CREATE,
        purpose=Purpose.TREATMENT,
    )
    library = selectors.templates_for(programs=_programs_of(patient))
    if writing:
        form = AssignForm(request.POST, library=library)
        if form.is_valid():
            try:
                services.assignment_create(
                    patient=patient,
                    definition=form.definition(),
                    assigned_by=request.user,  # type: ignore[arg-type]
                    due_on=form.cleaned_data["due_on"],
                    note=form.cleaned_data["note"],
                    for_family=form.cleaned_data["for_family"],
                )
            except services.FamilyContentError:
                form.add_error(
                    "for_family",
                    _(
                        "This patient's program treats substance use: family members cannot "
                        "see anything from it without the patient's written consent. Untick "
                        "“For the family” to assign it to the patient only."
                    ),
                )
            else:
                messages.success(request, _("Homework assigned."))
                return redirect("homework:staff_list", patient.pk)
    else:
        form = AssignForm(library=library)
    return render(
        request,
        "homework/staff_assign.html",
        {
            "patient": patient,
            "form": form,
            "library": library,
            "groups": selectors.group_sessions_of(patient=patient),
        },
    )


@staff_required
@require_GET
def staff_detail(request: HttpRequest, patient_id: int, assignment_id: int) -> HttpResponse:
    # The answers are the patient's self-report; the page shows them.
    patient = access_patient(
        request,
        patient_id,
        category=Category.SELF_REPORT,
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    assignment = _assignment_of(
        request,
        patient,
        assignment_id,
        category=Category.SELF_REPORT,
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    labels = {assignment.record_category}
    answers_label = selectors.answers_category(assignment=assignment)
    if answers_label is not None:
        labels.add(answers_label)
    if assignment.for_family:
        labels |= set(
            assignment.family_answers.values_list("record_category", flat=True).distinct()
        )
    _check_labels(request, patient, labels)
    return _staff_detail_page(request, patient, assignment, FeedbackForm())


def _staff_detail_page(
    request: HttpRequest, patient: Patient, assignment: Assignment, form: FeedbackForm
) -> HttpResponse:
    answers = selectors.answers_for(assignment=assignment)
    from tether.privacy.gate import decide

    return render(
        request,
        "homework/staff_detail.html",
        {
            "patient": patient,
            "assignment": assignment,
            "steps": selectors.answered_steps(assignment=assignment, answers=answers),
            "has_answers": bool(answers),
            # A family assignment: each family member's own part, labelled as the family's.
            "family_parts": (
                family_selectors.answers_for_team(assignment=assignment)
                if assignment.for_family
                else []
            ),
            "form": form,
            "can_give_feedback": decide(
                request.user,  # type: ignore[arg-type]
                patient,
                category=Category.SHARED,
                action=Action.UPDATE,
            ).allowed,
        },
    )


@staff_required
@require_POST
def staff_feedback(request: HttpRequest, patient_id: int, assignment_id: int) -> HttpResponse:
    patient = access_patient(
        request,
        patient_id,
        category=Category.SHARED,
        action=Action.UPDATE,
        purpose=Purpose.TREATMENT,
    )
    assignment = _assignment_of(
        request,
        patient,
        assignment_id,
        category=Category.SHARED,
        action=Action.UPDATE,
        purpose=Purpose.TREATMENT,
    )
    form = FeedbackForm(request.POST)
    if form.is_valid():
        services.feedback_give(
            assignment=assignment,
            author=request.user,  # type: ignore[arg-type]
            text=form.cleaned_data["feedback"],
        )
        messages.success(request, _("Feedback saved. The patient will see it with the homework."))
        return redirect("homework:staff_detail", patient.pk, assignment.pk)
    return _staff_detail_page(request, patient, assignment, form)


@staff_required
def staff_assign_group(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The same homework for every attendee of a group session the clinician may assign to.

    Attendees outside the clinician's care (the gate says no for ``shared``/create)
    are left out and counted, never named.
    """
    user: User = request.user  # type: ignore[assignment]
    appointment = (
        Appointment.objects.filter(
            pk=appointment_id, organization_id=user.organization_id or 0, is_cancelled=False
        )
        .select_related("program")
        .first()
    )
    attendee_ids = Attendance.objects.filter(appointment=appointment).values("patient_id")
    patients = list(
        patients_visible_to(user, category=Category.SHARED, action=Action.CREATE)
        .filter(pk__in=attendee_ids)
        .order_by("last_name", "first_name", "pk")
    )
    if appointment is None or not patients:
        audit.record_denied(
            request,
            patient=None,
            category=Category.SHARED,
            action=Action.CREATE,
            purpose=Purpose.TREATMENT,
        )
        raise Http404
    left_out = Attendance.objects.filter(appointment=appointment).count() - len(patients)
    library = selectors.templates_for(programs=[appointment.program])
    if request.method == "POST":
        form = AssignForm(request.POST, library=library, allow_family=False)
        if form.is_valid():
            services.assignments_create_for_group(
                patients=patients,
                definition=form.definition(),
                assigned_by=user,
                due_on=form.cleaned_data["due_on"],
                note=form.cleaned_data["note"],
                appointment=appointment,
            )
            messages.success(
                request,
                _("Homework assigned to %(count)d people.") % {"count": len(patients)},
            )
            return redirect("homework:staff_assign_group", appointment.pk)
    else:
        form = AssignForm(library=library, allow_family=False)
    return render(
        request,
        "homework/staff_assign_group.html",
        {
            "appointment": appointment,
            "patients": patients,
            "left_out": left_out,
            "form": form,
            "library": library,
        },
    )
