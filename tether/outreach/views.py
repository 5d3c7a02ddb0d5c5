"""Outreach pages and endpoints.

- ``/me/reminders/``: the patient sees and changes how and about what they are reached.
- ``/o/<token>/``: a reminder's short-lived signed link; it still needs sign-in, and
  leads only the patient it was made for to the page of its kind.
- ``/outreach/twilio/inbound/`` and ``/status/``: Twilio's webhooks, signed requests
  only (``RequestValidator`` against ``TETHER_PUBLIC_BASE_URL``): 403 and an audit
  event otherwise, nothing stored.
- ``/me/reminders/push/`` (POST): subscribe or unsubscribe the installed app.
- ``/me/phone/``: the demo's phone (demo with the console backend only; 404 otherwise):
  the texts sent to the signed-in patient's number, and a box to reply as the patient,
  handled by the same service as a signed Twilio webhook.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tether.lib.phones import display_phone
from tether.outreach import content, services
from tether.outreach.forms import PhoneReplyForm, PreferenceForm, PushForm
from tether.outreach.models import Channel, InboundMessage, OutboundMessage, PushSubscription
from tether.privacy import audit
from tether.privacy.gate import access_own_record
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category

logger = logging.getLogger(__name__)


@login_required
def reminders(request: HttpRequest) -> HttpResponse:
    action = Action.UPDATE if request.method == "POST" else Action.VIEW
    patient = access_own_record(request, category=Category.GENERAL, action=action)
    pref = services.preference_for(patient)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.preference_update(
                patient=patient,
                actor=request.user,  # type: ignore[arg-type]
                change=services.PreferenceChange(**data),
            )
            flash.success(request, _("Saved. You can change this at any time."))
            return redirect("outreach:reminders")
        status = 400
    else:
        form = PreferenceForm(
            initial={
                "sms_phone": display_phone(pref.sms_phone),
                **{
                    name: getattr(pref, name)
                    for name in services.PreferenceChange.__dataclass_fields__
                    if name != "sms_phone"
                },
            }
        )
        status = 200
    recent = list(OutboundMessage.objects.filter(patient=patient).order_by("-created_at")[:10])
    return render(
        request,
        "outreach/reminders.html",
        {
            "nav": "reminders",
            "form": form,
            "pref": pref,
            "recent": recent,
            "push_count": PushSubscription.objects.filter(patient=patient).count(),
            "vapid_public_key": settings.VAPID_PUBLIC_KEY,
            "demo_phone": services.demo_phone_on(),
        },
        status=status,
    )


@login_required
@require_POST
def push(request: HttpRequest) -> HttpResponse:
    patient = access_own_record(request, category=Category.GENERAL, action=Action.UPDATE)
    form = PushForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False}, status=400)
    data = form.cleaned_data
    if request.POST.get("action") == "unsubscribe":
        services.push_unsubscribe(patient=patient, actor=request.user, endpoint=data["endpoint"])  # type: ignore[arg-type]
    else:
        services.push_subscribe(patient=patient, actor=request.user, **data)  # type: ignore[arg-type]
    return JsonResponse({"ok": True})


@login_required
def link(request: HttpRequest, token: str) -> HttpResponse:
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    target = content.read_link(token)
    if target is None:
        return render(request, "outreach/link_expired.html", {"nav": ""}, status=410)
    if patient.pk != target.patient_id:
        raise Http404  # someone else's link: existence never leaks
    return redirect(content.LINK_TARGETS[target.kind])


@login_required
def phone(request: HttpRequest) -> HttpResponse:
    """The demo's phone: what the console backend "sent" to this patient's number, and
    replies typed as the patient (``services.demo_reply`` -> ``sms_inbound``)."""
    if not services.demo_phone_on():
        raise Http404
    action = Action.UPDATE if request.method == "POST" else Action.VIEW
    patient = access_own_record(request, category=Category.GENERAL, action=action)
    pref = services.preference_for(patient)
    form = PhoneReplyForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "ask":
            if services.daily_question_text(patient) is None:
                flash.info(request, _("No check-in is waiting to be texted right now."))
            return redirect("outreach:phone")
        if form.is_valid() and pref.sms_phone:
            services.demo_reply(patient=patient, body=form.cleaned_data["body"])
            return redirect("outreach:phone")
    sent = OutboundMessage.objects.filter(patient=patient, channel=Channel.SMS).order_by(
        "-created_at", "-pk"
    )[:PHONE_SHOWN]
    received = InboundMessage.objects.filter(patient=patient).order_by("-received_at", "-pk")[
        :PHONE_SHOWN
    ]
    texts = sorted(
        [(m.created_at, 1, m.pk, "in", m.body) for m in sent]
        + [(m.received_at, 0, m.pk, "out", m.body or "") for m in received],
    )[-PHONE_SHOWN:]
    return render(
        request,
        "outreach/phone.html",
        {
            "nav": "reminders",
            "pref": pref,
            "form": form,
            "texts": [{"at": at, "way": way, "body": body} for at, _o, _pk, way, body in texts],
        },
        status=400 if request.method == "POST" else 200,
    )


PHONE_SHOWN = 40


# --- Twilio -----------------------------------------------------------------------


def _signed(request: HttpRequest) -> bool:
    from twilio.request_validator import RequestValidator

    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.TETHER_PUBLIC_BASE_URL + request.get_full_path()
    params = {key: request.POST.get(key, "") for key in request.POST}
    return bool(RequestValidator(token).validate(url, params, signature))


def _forbidden(request: HttpRequest) -> HttpResponse:
    audit.record(
        request=request,
        actor=None,
        patient=None,
        action=Action.CREATE,
        category=Category.GENERAL,
        purpose=Purpose.OPERATIONS,
        outcome=AuditEvent.Outcome.DENIED,
    )
    return HttpResponse(status=403)


def _twiml(replies: list[str]) -> HttpResponse:
    from twilio.twiml.messaging_response import MessagingResponse

    answer = MessagingResponse()
    for body in replies:
        answer.message(body)
    return HttpResponse(str(answer), content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return _forbidden(request)
    handled = services.sms_inbound(
        message_sid=request.POST.get("MessageSid", ""),
        from_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
    )
    return _twiml(handled.replies if handled is not None else [])


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return _forbidden(request)
    services.delivery_status(
        message_sid=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)
