"""Break-glass: emergency access for a clinician outside the patient's care team.

ONC 170.315(d)(6) and 42 CFR 2.51. Reached from the staff "not found" page
(``page_not_found``) when a clinician opens a patient they have no relation
to. The page shows nothing about the patient until access is granted; a
nonexistent id and another organization's id both answer 404, identically.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults

from tether.accounts.models import User
from tether.lib.forms import FreeTextField
from tether.privacy import gate
from tether.privacy.policy import Relation
from tether.privacy.services import (
    EXPLANATION_MAX_LENGTH,
    EXPLANATION_MIN_LENGTH,
    BreakGlassReason,
    active_grant,
    break_glass_start,
    grant_local_time,
    may_break_glass,
)
from tether.staff.access import can_register_patients, staff_required


class BreakGlassForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("What is the emergency?"),
        choices=BreakGlassReason.choices,
        error_messages={"required": gettext_lazy("Choose the kind of emergency.")},
        widget=forms.RadioSelect,
    )
    explanation = FreeTextField(
        label=gettext_lazy("Explain why you need this record now"),
        help_text=format_lazy(
            gettext_lazy(
                "At least {min} characters. The clinical lead and the privacy officer will read it."
            ),
            min=EXPLANATION_MIN_LENGTH,
        ),
        min_length=EXPLANATION_MIN_LENGTH,
        max_length=EXPLANATION_MAX_LENGTH,
        error_messages={
            "min_length": gettext_lazy(
                "Please explain in at least %(limit_value)d characters (you wrote %(show_value)d)."
            ),
        },
        multiline=True,
        rows=4,
    )


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "can_register_patients": can_register_patients(request.staff_member),  # type: ignore[attr-defined]
        "minutes": settings.TETHER_BREAK_GLASS_MINUTES,
        **extra,
    }


@staff_required
def request_access(request: HttpRequest, patient_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    patient = gate.patient_for_break_glass(request, patient_id)
    if Relation.CARE_TEAM in gate.relations_to(user, patient):
        messages.info(
            request, _("You are on this patient's care team: you do not need emergency access.")
        )
        return redirect("staff:patient_detail", patient_id=patient.pk)

    grant = active_grant(user=user, patient=patient)
    if grant is not None:
        return render(
            request,
            "privacy/break_glass_active.html",
            _context(
                request,
                patient_id=patient.pk,
                until=formats.time_format(grant_local_time(grant, grant.expires_at), "TIME_FORMAT"),
            ),
        )

    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        grant = break_glass_start(
            request=request,
            user=user,
            patient=patient,
            reason=BreakGlassReason(form.cleaned_data["reason"]),
            explanation=form.cleaned_data["explanation"],
        )
        until = formats.time_format(grant_local_time(grant, grant.expires_at), "TIME_FORMAT")
        messages.warning(
            request,
            _(
                "Emergency access is open until %(until)s. Everything you open is recorded, "
                "and the clinical lead and privacy officer have been told."
            )
            % {"until": until},
        )
        return redirect("staff:patient_detail", patient_id=patient.pk)
    return render(
        request,
        "privacy/break_glass.html",
        _context(request, patient_id=patient.pk, form=form),
        status=400 if request.method == "POST" else 200,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404. On a staff patient page, a clinician is offered emergency access.

    The offer depends only on who asks and which URL pattern matched, never on
    whether the patient exists or where: existence does not leak.
    """
    match = request.resolver_match
    user = getattr(request, "user", None)
    if (
        match is not None
        and match.namespace == "staff"
        and isinstance(match.kwargs.get("patient_id"), int)
        and request.method == "GET"
        and isinstance(user, User)
        and may_break_glass(user)
    ):
        return render(
            request,
            "privacy/break_glass_not_found.html",
            {
                "patient_id": match.kwargs["patient_id"],
                "can_register_patients": can_register_patients(user.staff_member),
            },
            status=404,
        )
    return defaults.page_not_found(request, exception)
