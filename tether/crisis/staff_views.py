"""Staff side of urgent-contact requests: the queue, one request, acknowledge, close."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tether.accounts.models import User
from tether.crisis import services
from tether.crisis.forms import CloseRequestForm
from tether.crisis.models import UrgentContactRequest
from tether.organizations.models import StaffMember
from tether.privacy import audit
from tether.privacy.gate import (
    access_patient,
    decide,
    readable_categories,
    visible_condition,
)
from tether.privacy.list_audit import record_list
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.staff.access import can_register_patients, staff_required

LIMIT = 100


def _may_act(request: HttpRequest, urgent: UrgentContactRequest) -> bool:
    """Who may take a request (acknowledge it, document the contact): clinical staff the
    gate lets create a follow-up note for the patient (the care team, the program's
    on-call clinician and clinical lead)."""
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]
    return (
        staff.is_clinical
        and decide(
            request.user,  # type: ignore[arg-type]
            urgent.patient,
            category=services.FOLLOW_UP_CATEGORY,
            action=Action.CREATE,
        ).allowed
    )


def _request_for(
    request: HttpRequest,
    request_id: int,
    *,
    category: Category = services.CATEGORY,
    action: Action = Action.VIEW,
) -> UrgentContactRequest:
    user: User = request.user  # type: ignore[assignment]
    urgent = (
        UrgentContactRequest.objects.filter(
            pk=request_id, organization_id=user.organization_id or 0
        )
        .select_related("patient", "program", "acknowledged_by", "closed_by")
        .first()
    )
    staff = getattr(request, "staff_member", None)
    writing = action != Action.VIEW
    if urgent is None or (writing and (staff is None or not staff.is_clinical)):
        audit.record_denied(
            request,
            patient=urgent.patient if urgent is not None else None,
            category=category,
            action=action,
            purpose=Purpose.TREATMENT,
        )
        raise Http404
    access_patient(
        request, urgent.patient_id, category=category, action=action, purpose=Purpose.TREATMENT
    )
    return urgent


def _taken(request: HttpRequest, request_id: int) -> UrgentContactRequest:
    """A request someone takes (a POST): the gate is asked to create the follow-up."""
    return _request_for(
        request, request_id, category=services.FOLLOW_UP_CATEGORY, action=Action.CREATE
    )


def _base_context(request: HttpRequest) -> dict[str, object]:
    return {
        "nav": "urgent",
        "can_register_patients": can_register_patients(request.staff_member),  # type: ignore[attr-defined]
    }


@staff_required
def request_list(request: HttpRequest) -> HttpResponse:
    """Open requests first (oldest first), then the most recently closed."""
    user: User = request.user  # type: ignore[assignment]
    # The program's relation stated on the requests themselves (gate.visible_condition):
    # through the patients table, each of the two reads scanned every patient of the
    # organization for an on-call clinician or a lead (docs/BENCHMARKS.md, seventh pass).
    visible = visible_condition(user, category=services.CATEGORY, action=Action.VIEW)
    rows = UrgentContactRequest.objects.filter(visible).select_related(
        "patient", "program", "acknowledged_by"
    )
    open_rows = list(
        rows.exclude(status=UrgentContactRequest.Status.CLOSED).order_by("raised_at")[:LIMIT]
    )
    closed_rows = list(
        rows.filter(status=UrgentContactRequest.Status.CLOSED).order_by("-closed_at")[:20]
    )
    record_list(
        request,
        patients=[r.patient for r in (*open_rows, *closed_rows)],
        category=services.CATEGORY,
        purpose=Purpose.TREATMENT,
        obj_type="crisis.urgentcontactrequest",
    )
    return render(
        request,
        "crisis/staff/request_list.html",
        {**_base_context(request), "open_rows": open_rows, "closed_rows": closed_rows},
    )


@staff_required
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    urgent = _request_for(request, request_id)
    return _render_detail(request, urgent, CloseRequestForm())


def _render_detail(
    request: HttpRequest, urgent: UrgentContactRequest, form: CloseRequestForm, status: int = 200
) -> HttpResponse:
    from tether.crisis.selectors import crisis_pathway_use_count

    trigger = None
    part2_hidden = False
    if urgent.source == UrgentContactRequest.Source.MESSAGE:
        from tether.messaging.selectors import trigger_for_request, trigger_message

        message = trigger_message(urgent)
        if message is not None:
            # The crisis phrase is part of the message: shown only to those who may read
            # the message's category (a Part 2 message: the care team, or break-glass).
            readable = readable_categories(
                request,
                urgent.patient,
                categories={message.record_category},
                purpose=Purpose.TREATMENT,
            )
            part2_hidden = message.record_category not in readable
            trigger = trigger_for_request(urgent, message=message, readable=readable)
    return render(
        request,
        "crisis/staff/request_detail.html",
        {
            **_base_context(request),
            "urgent": urgent,
            "events": list(urgent.events.select_related("actor__staff_member")),
            "form": form,
            "may_act": _may_act(request, urgent),
            "use_count": crisis_pathway_use_count(patient_id=urgent.patient_id),
            "expected_by": services.expected_contact_by(urgent),
            "trigger": trigger,
            "part2_hidden": part2_hidden,
        },
        status=status,
    )


@staff_required
@require_POST
def request_acknowledge(request: HttpRequest, request_id: int) -> HttpResponse:
    urgent = _taken(request, request_id)
    services.urgent_contact_acknowledge(request=urgent, user=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Acknowledged. The escalation clock has stopped."))
    return redirect("crisis:staff_request", request_id=urgent.pk)


@staff_required
@require_POST
def request_close(request: HttpRequest, request_id: int) -> HttpResponse:
    urgent = _taken(request, request_id)
    form = CloseRequestForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, urgent, form, status=400)
    services.urgent_contact_close(
        request=urgent,
        user=request.user,  # type: ignore[arg-type]
        contact_method=form.cleaned_data["contact_method"],
        outcome=form.cleaned_data["outcome"],
        safety_plan_reviewed=form.cleaned_data["safety_plan_reviewed"],
        next_step=form.cleaned_data["next_step"],
    )
    messages.success(request, _("Contact documented and the request closed."))
    return redirect("crisis:staff_request", request_id=urgent.pk)
