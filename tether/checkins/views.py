"""The check-in flow (one question per screen), the patient's progress page and the
staff's measures page. Thin: the gate, then a selector or a service.

Every answer is a plain form POST (works without JavaScript); ``checkin.js`` sends
the same POST with ``fetch`` and gets the next address back as JSON.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tether.accounts.models import User
from tether.checkins import engine, languages, services
from tether.checkins.charts import chart_for
from tether.checkins.models import Response
from tether.checkins.selectors import (
    current_episode,
    due_for,
    history,
    readable_categories,
    unfinished,
    visible_flags,
)
from tether.checkins.summary import patient_line
from tether.crisis.resources import NATIONAL_CONTACTS, program_contacts
from tether.crisis.selectors import note_own_episode, open_request_for
from tether.crisis.services import expected_contact_by
from tether.lib.text import normalize_newlines
from tether.patients.models import Episode, Patient
from tether.privacy import audit
from tether.privacy.gate import access_own_record, access_patient, own_record_write
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.staff.access import staff_required

FETCH_HEADER = "X-Tether-Fetch"


def _patient(request: HttpRequest, action: Action) -> Patient:
    return access_own_record(request, category=Category.SELF_REPORT, action=action)


def _response(request: HttpRequest, patient: Patient, key: uuid.UUID) -> Response:
    """The patient's own response; another patient's key is a 404 like any unknown one,
    and the refusal is audited (naming the other patient when the key is theirs)."""
    try:
        return Response.objects.select_related("instrument", "episode__program", "patient").get(
            key=key, patient=patient
        )
    except Response.DoesNotExist:
        owner = (
            Response.objects.filter(key=key, organization_id=patient.organization_id)
            .select_related("patient")
            .first()
        )
        audit.record_denied(
            request,
            patient=owner.patient if owner is not None else None,
            category=Category(owner.record_category) if owner is not None else Category.SELF_REPORT,
            action=Action.UPDATE if request.method == "POST" else Action.VIEW,
            purpose=Purpose.PATIENT_REQUEST,
        )
        raise Http404 from None


def _go(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get(FETCH_HEADER):
        return JsonResponse({"next": url})
    return redirect(url)


def _closed_message(request: HttpRequest, response: Response) -> None:
    if response.status == Response.Status.INCOMPLETE and response.submitted_at:
        messages.info(
            request,
            _(
                "This questionnaire has closed. The answers you gave were kept, and your care "
                "team can see them."
            ),
        )
    else:
        messages.info(request, _("You already sent this one. Thank you — nothing was changed."))


def _first_unanswered(response: Response) -> int | None:
    answered = services.answers_of(response)
    for position, item in enumerate(services.items_for(response), start=1):
        if item.code not in answered:
            return position
    return None


@login_required
@require_POST
def start(request: HttpRequest, schedule_id: int) -> HttpResponse:
    patient = _patient(request, Action.CREATE)
    episode = current_episode(patient=patient)
    due = next(
        (d for d in due_for(patient=patient, episode=episode) if d.schedule.pk == schedule_id),
        None,
    )
    if due is None or episode is None:
        messages.info(request, _("That check-in is not open right now. Thank you for checking."))
        return redirect("portal:home")
    user: User = request.user  # type: ignore[assignment]
    response = services.response_start(actor=user, patient=patient, episode=episode, due=due)
    return redirect("checkins:resume", key=response.key)


@login_required
@require_GET
def resume(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    """Where the patient left off (a reload, or coming back from the home page)."""
    patient = _patient(request, Action.VIEW)
    response = _response(request, patient, key)
    if response.status != Response.Status.DRAFT:
        return redirect("checkins:done", key=key)
    position = _first_unanswered(response)
    if position is None:
        return redirect("checkins:finish", key=key)
    return redirect("checkins:question", key=key, position=position)


def _expired(request: HttpRequest, response: Response) -> bool:
    if response.status == Response.Status.DRAFT and timezone.now() >= response.expires_at:
        services.response_close_expired(response=response)
        response.refresh_from_db()
        return True
    return False


def _after(response: Response, position: int, count: int) -> str:
    if position < count:
        return reverse("checkins:question", kwargs={"key": response.key, "position": position + 1})
    return reverse("checkins:finish", kwargs={"key": response.key})


@login_required
@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, key: uuid.UUID, position: int) -> HttpResponse:
    patient = _patient(request, Action.UPDATE if request.method == "POST" else Action.VIEW)
    response = _response(request, patient, key)
    items = services.items_for(response)
    if not 1 <= position <= len(items):
        raise Http404
    item = items[position - 1]
    if response.status != Response.Status.DRAFT or _expired(request, response):
        _closed_message(request, response)
        return _go(request, reverse("checkins:done", kwargs={"key": key}))
    error = ""
    status = 200
    typed: str | None = None  # a refused text answer comes back in its box, as typed
    if request.method == "POST":
        user: User = request.user  # type: ignore[assignment]
        try:
            saved = services.answer_save(
                actor=user, response=response, item=item, raw=request.POST.get("answer")
            )
        except engine.InvalidAnswer:
            error = (
                _("Please keep your answer to %(max)s characters or fewer.")
                % {"max": item.max_length}
                if item.kind == "text"
                else _("That answer was not one of the choices. Please choose one of these.")
            )
            status = 400
            if item.kind == "text":
                typed = normalize_newlines(str(request.POST.get("answer", "")))
            if request.headers.get(FETCH_HEADER):
                return JsonResponse({"error": error}, status=400)
        except (services.ResponseClosed, services.ResponseExpired):
            response.refresh_from_db()
            _closed_message(request, response)
            return _go(request, reverse("checkins:done", kwargs={"key": key}))
        else:
            if saved.alerts:
                return _go(
                    request,
                    reverse("checkins:support", kwargs={"key": key, "position": position}),
                )
            if position == len(items):
                return _submit(request, response, user)
            return _go(request, _after(response, position, len(items)))
    answers = services.answers_of(response)
    spec = response.instrument.spec
    chosen = typed if typed is not None else answers.get(item.code)
    back = (
        reverse("checkins:question", kwargs={"key": key, "position": position - 1})
        if position > 1
        else reverse("portal:home")
    )
    return render(
        request,
        "checkins/question.html",
        {
            "response": response,
            "spec": spec,
            "item": item,
            "position": position,
            "count": len(items),
            "chosen": chosen,
            "back": back,
            "error": error,
            "is_last": position == len(items),
            "shown_in": _shown_in(response),
            "wording_blocked": languages.is_blocked(
                instrument_code=response.instrument.code, language=get_language()
            ),
        },
        status=status,
    )


def _shown_in(response: Response) -> str:
    """The language this response's questions are shown in for the current reader."""
    return languages.shown_in(instrument_code=response.instrument.code, language=get_language())


def _submit(request: HttpRequest, response: Response, user: User) -> HttpResponse:
    try:
        result = services.response_submit(
            actor=user, response=response, language=_shown_in(response)
        )
    except services.MissingAnswers:
        return _go(request, reverse("checkins:finish", kwargs={"key": response.key}))
    except services.ResponseExpired:
        response.refresh_from_db()
        _closed_message(request, response)
        return _go(request, reverse("checkins:done", kwargs={"key": response.key}))
    if result.already:
        _closed_message(request, result.response)
    return _go(request, reverse("checkins:done", kwargs={"key": response.key}))


@login_required
@require_GET
def support(request: HttpRequest, key: uuid.UUID, position: int) -> HttpResponse:
    """Right after an answer that raised a safety flag: supportive words and help now."""
    patient = _patient(request, Action.VIEW)
    response = _response(request, patient, key)
    items = services.items_for(response)
    if not 1 <= position <= len(items):
        raise Http404
    # The urgent request this answer raised: the patient is told what happens next and
    # by when, the same time the staff page shows (crisis.services.expected_contact_by).
    urgent = open_request_for(patient_id=patient.pk)
    return render(
        request,
        "checkins/support.html",
        {
            "urgent": urgent,
            "expected_by": expected_contact_by(urgent) if urgent is not None else None,
            "response": response,
            "program": response.episode.program,
            "national_contacts": NATIONAL_CONTACTS,
            "program_contacts": program_contacts(response.episode.program),
            "next_url": _after(response, position, len(items)),
        },
    )


class _NotTheirs(Exception):
    """The key is not one of this patient's responses (refused after the transaction)."""


def _send(request: HttpRequest, key: uuid.UUID) -> HttpResponse | Response:
    """The finish page's POST: submit the response, in one transaction and one commit
    with the access's audit event (``own_record_write``). The response itself when
    answers are missing (nothing was written): the page is shown again, listing them."""
    user: User = request.user  # type: ignore[assignment]
    # The idempotency key is the response's own key: a second POST finds it sent.
    allow_incomplete = request.POST.get("send_as_is") == "1"
    try:
        with own_record_write(
            request, category=Category.SELF_REPORT, action=Action.UPDATE
        ) as patient:
            try:
                response = services.lock_for_submit(key=key, patient=patient)
            except Response.DoesNotExist:
                raise _NotTheirs from None
            if response.status == Response.Status.DRAFT and timezone.now() < response.expires_at:
                result = services.response_submit(
                    actor=user,
                    response=response,
                    allow_incomplete=allow_incomplete,
                    language=_shown_in(response),
                    locked=True,
                )
                if result.already:
                    _closed_message(request, result.response)
                return redirect("checkins:done", key=key)
    except services.MissingAnswers:
        return Response.objects.select_related("instrument", "episode__program", "patient").get(
            key=key, patient=patient
        )
    except _NotTheirs:
        _response(request, patient, key)  # records the refusal, raises Http404
        raise
    # Already sent, or its window has closed (closed now, in its own transaction).
    _expired(request, response)
    _closed_message(request, response)
    return redirect("checkins:done", key=key)


@login_required
@require_http_methods(["GET", "POST"])
def finish(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    if request.method == "POST":
        sent = _send(request, key)
        if isinstance(sent, HttpResponse):
            return sent
        response = sent  # answers are missing: the page again, listing them
    else:
        patient = _patient(request, Action.VIEW)
        response = _response(request, patient, key)
        if response.status != Response.Status.DRAFT or _expired(request, response):
            return redirect("checkins:done", key=key)
    answers = services.answers_of(response)
    items = services.items_for(response)
    missing = [
        (position, item)
        for position, item in enumerate(items, start=1)
        if item.required and item.code not in answers
    ]
    return render(
        request,
        "checkins/finish.html",
        {
            "response": response,
            "spec": response.instrument.spec,
            "missing": missing,
            "back": reverse("checkins:question", kwargs={"key": key, "position": len(items)}),
        },
    )


@login_required
@require_GET
def done(request: HttpRequest, key: uuid.UUID) -> HttpResponse:
    patient = _patient(request, Action.VIEW)
    response = _response(request, patient, key)
    if response.status == Response.Status.DRAFT:
        return redirect("checkins:resume", key=key)
    if response.record_category != Category.SELF_REPORT:
        # Reading a labelled record back: the gate is asked with its own category.
        access_own_record(request, category=Category(response.record_category), action=Action.VIEW)
    return render(
        request,
        "checkins/done.html",
        {"response": response, "spec": response.instrument.spec, "nav": "progress"},
    )


def _cards(
    patient: Patient,
    categories: frozenset[str],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> tuple[list[dict[str, object]], Episode | None]:
    episode = current_episode(patient=patient)
    cards = []
    for series in history(
        patient=patient, episode=episode, categories=categories, since=since, until=until
    ):
        cards.append({"series": series, "chart": chart_for(series), "line": patient_line(series)})
    return cards, episode


# The progress page shows one period at a time (the latest by default, then Earlier /
# Later), so its HTML does not grow with the history (issue #20: at most 60 KB).
PROGRESS_DAYS = 90


def _period_end(value: str, today: dt.date) -> dt.date:
    """The last day of the period asked for (``?until=YYYY-MM-DD``), never after today."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return today
    return min(day, today)


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@login_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    patient = _patient(request, Action.VIEW)
    categories = readable_categories(request, patient=patient, purpose=Purpose.PATIENT_REQUEST)
    today = timezone.localdate()
    last_day = _period_end(request.GET.get("until", ""), today)
    first_day = last_day - dt.timedelta(days=PROGRESS_DAYS - 1)
    cards, episode = _cards(
        patient,
        categories,
        since=_midnight(first_day),
        until=_midnight(last_day + dt.timedelta(days=1)),
    )
    note_own_episode(request, episode)  # the header's crisis contacts: no second read
    earlier = (
        first_day - dt.timedelta(days=1)
        if episode is not None and episode.admitted_on < first_day
        else None
    )
    later = last_day + dt.timedelta(days=PROGRESS_DAYS) if last_day < today else None
    return render(
        request,
        "checkins/progress.html",
        {
            "nav": "progress",
            "patient": patient,
            "cards": cards,
            "episode": episode,
            "period": {
                "first": first_day,
                "last": last_day,
                "earlier": earlier,
                "later": later,
                "later_is_latest": later is not None and later >= today,
            },
        },
    )


@staff_required
@require_GET
def staff_measures(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient(
        request,
        patient_id,
        category=Category.SELF_REPORT,
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    # Part 2 responses (labelled at capture) only for those the gate lets read them.
    categories = readable_categories(request, patient=patient, purpose=Purpose.TREATMENT)
    cards, episode = _cards(patient, categories)
    return render(
        request,
        "checkins/staff_measures.html",
        {
            "patient": patient,
            "cards": cards,
            "episode": episode,
            "flags": visible_flags(patient=patient, categories=categories),
            "unfinished": unfinished(
                patient=patient, episode=current_episode(patient=patient), categories=categories
            ),
        },
    )
