"""Program admins register and deactivate FHIR clients (/staff/fhir-clients/)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tether.accounts.models import User
from tether.fhir import services
from tether.fhir.forms import ClientForm
from tether.fhir.models import FhirClient
from tether.staff.access import staff_required


@staff_required
def clients(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    programs = services.admin_programs(user)
    if not programs or user.organization_id is None:
        raise Http404
    form = ClientForm(request.POST or None, programs=programs, organization_id=user.organization_id)
    if request.method == "POST":
        if "deactivate" in request.POST:
            raw = request.POST.get("deactivate", "")
            client = FhirClient.objects.filter(
                pk=int(raw) if raw.isdigit() and len(raw) < 18 else 0, program__in=programs
            ).first()
            if client is None:
                raise Http404
            services.client_deactivate(client=client, deactivated_by=user)
            flash.success(request, _("The client is turned off; its tokens no longer work."))
            return redirect("fhir_staff:clients")
        if form.is_valid():
            client = services.client_register(
                program=form.cleaned_data["program"],
                recipient=form.cleaned_data["recipient"],
                jwks=form.cleaned_data["jwks"],
                scopes=form.cleaned_data["scopes"],
                registered_by=user,
            )
            flash.success(
                request,
                _("Registered. Give the system its client id: %(id)s") % {"id": client.client_id},
            )
            return redirect("fhir_staff:clients")
    registered = FhirClient.objects.filter(program__in=programs).select_related(
        "program", "recipient"
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request, "fhir/clients.html", {"form": form, "clients": registered}, status=status
    )
