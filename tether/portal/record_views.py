"""The patient's own record: view, download (PDF, FHIR) and send (ONC 170.315(e)(1)).

Only the signed-in patient (``record.patient_of``: a 404 and a denied audit event for
staff, family members and anyone else). Reading for the page is ``view``; a download or a
copy sent is ``export``, each category of the record asked of the gate and audited.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tether.accounts.models import User
from tether.portal.forms import TransmitForm
from tether.portal.models import RecordTransmission
from tether.portal.record import own_record, patient_of, sent_today
from tether.portal.services import DAILY_LIMIT, TooManyCopies, record_file, record_transmit
from tether.privacy.policy import Action


def fhir_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("/metadata")


@login_required
@require_GET
def record_view(request: HttpRequest) -> HttpResponse:
    record = own_record(request, action=Action.VIEW)
    return render(request, "portal/record.html", {"nav": "record", "record": record})


def _download(request: HttpRequest, fmt: str) -> HttpResponse:
    record = own_record(request, action=Action.EXPORT)
    file = record_file(record, fmt=fmt, base=fhir_base(request))
    response = HttpResponse(file.content, content_type=file.mimetype)
    response["Content-Disposition"] = f'attachment; filename="{file.name}"'
    return response


@login_required
@require_GET
def record_pdf(request: HttpRequest) -> HttpResponse:
    return _download(request, RecordTransmission.Format.PDF)


@login_required
@require_GET
def record_fhir(request: HttpRequest) -> HttpResponse:
    return _download(request, RecordTransmission.Format.FHIR)


@login_required
@require_http_methods(["GET", "POST"])
def record_send(request: HttpRequest) -> HttpResponse:
    """Two steps: the address and the file, then "Check and send" shows them back and
    only the second press sends."""
    posting = request.method == "POST"
    patient = patient_of(request, Action.EXPORT if posting else Action.VIEW)
    form = TransmitForm(request.POST if posting else None)
    context = {"nav": "record", "form": form, "limit_reached": sent_today(patient) >= DAILY_LIMIT}
    if not posting or not form.is_valid() or request.POST.get("confirm") == "change":
        return render(request, "portal/record_send.html", context)
    if request.POST.get("confirm") != "send":
        return render(
            request, "portal/record_send_confirm.html", {**context, "chosen": form.describe()}
        )
    record = own_record(request, action=Action.EXPORT, patient=patient)
    user = request.user
    if not isinstance(user, User):  # never: patient_of let a signed-in patient in
        raise Http404
    try:
        record_transmit(
            request=request,
            record=record,
            sender=user,
            channel=form.cleaned_data["channel"],
            address=form.cleaned_data["address"],
            fmt=form.cleaned_data["format"],
            base=fhir_base(request),
        )
    except TooManyCopies:
        messages.error(
            request,
            _("You have sent %(count)s copies today. Please try again tomorrow.")
            % {"count": DAILY_LIMIT},
        )
        return redirect("portal:record")
    except OSError:
        messages.error(request, _("Not sent: the e-mail could not go out. Please try again later."))
        return redirect("portal:record")
    messages.success(request, _("Sent to %(address)s.") % {"address": form.cleaned_data["address"]})
    return redirect("portal:record")
