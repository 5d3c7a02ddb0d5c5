"""The patient's messages (/messages/) and the clinician inbox (/messages/inbox/)."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tether.accounts.models import User
from tether.crisis.resources import program_contacts
from tether.crisis.services import NoProgramError, program_of
from tether.crisis.views import not_delivered
from tether.messaging import selectors, services
from tether.messaging.forms import (
    FamilyMessageForm,
    NoteForm,
    PatientMessageForm,
    StaffReplyForm,
)
from tether.messaging.models import Thread
from tether.organizations.models import StaffMember
from tether.patients.models import Patient, Proxy
from tether.privacy import audit
from tether.privacy.gate import (
    access_as_proxy,
    access_own_record,
    access_patient,
    decide,
    patients_visible_to,
)
from tether.privacy.list_audit import record_lists
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.staff.access import can_register_patients, staff_required

logger = logging.getLogger(__name__)
CATEGORY = services.CATEGORY


# --- The patient ----------------------------------------------------------------


def _own_patient(request: HttpRequest, action: Action) -> Patient:
    return access_own_record(request, category=CATEGORY, action=action)


def _patient_page(
    request: HttpRequest, patient: Patient, form: PatientMessageForm, status: int = 200
) -> HttpResponse:
    thread = services.thread_for(patient, Thread.Kind.PATIENT)
    program = program_of(patient)
    now = timezone.now()
    services.thread_mark_read(thread=thread, by_patient=True, now=now)
    return render(
        request,
        "messaging/patient_thread.html",
        {
            "nav": "messages",
            "program": program,
            "office_open": program.is_office_hours(now),
            "office_days": _office_days(program.office_days),
            "thread_messages": selectors.thread_messages(thread),
            "form": form,
            "program_contacts": program_contacts(program),
        },
        status=status,
    )


def _office_days(days: str) -> str:
    names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    picked = [names[int(d)] for d in sorted(set(days)) if d.isdigit() and int(d) < 7]
    if picked == names[:5]:
        return _("Monday to Friday")
    return ", ".join(picked)


def _resent(result: services.SendResult) -> str:
    when = timezone.localtime(result.message.created_at)
    return _("Your message was sent at %(time)s. It was not sent twice.") % {
        "time": time_format(when, "TIME_FORMAT")
    }


def _say_sent(request: HttpRequest, result: services.SendResult, *, urgent: str) -> None:
    """What the sender is told after a send: the urgent-contact message when the text
    raised the crisis pathway, else "Message sent." A resend of the same message
    (the same words from the same form, or again right after Back) says it was sent once."""
    if not result.created:
        flash.info(request, _resent(result))
        return
    if result.message.urgent_request_id:
        flash.warning(request, urgent)
    else:
        flash.success(request, _("Message sent."))


@login_required
def patient_thread(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request, Action.VIEW)
    try:
        return _patient_page(request, patient, PatientMessageForm())
    except NoProgramError:
        raise Http404 from None


@login_required
@require_POST
def patient_send(request: HttpRequest) -> HttpResponse:
    form = PatientMessageForm(request.POST)
    try:
        patient = _own_patient(request, Action.CREATE)
        if not form.is_valid():
            return _patient_page(request, patient, form, status=400)
        result = services.message_send_by_patient(
            patient=patient,
            author=request.user,  # type: ignore[arg-type]
            body=form.cleaned_data["body"],
            marked_urgent=form.cleaned_data["urgent"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except (DatabaseError, NoProgramError):
        logger.exception("A patient message could not be saved")
        return not_delivered(request)
    _say_sent(
        request,
        result,
        urgent=_(
            "Thank you for telling us. We have asked your care team to contact you "
            "urgently. If you are in danger now, call 988 or 911."
        ),
    )
    return redirect("messaging:thread")


# --- A family member (proxy with the messaging scope) ------------------------------


def _family_page(
    request: HttpRequest, patient: Patient, form: FamilyMessageForm, status: int = 200
) -> HttpResponse:
    thread = services.thread_for(patient, Thread.Kind.FAMILY)
    program = program_of(patient)
    now = timezone.now()
    services.thread_mark_read(thread=thread, by_patient=True, now=now)
    return render(
        request,
        "messaging/family_thread.html",
        {
            "nav": "home",
            "patient": patient,
            "program": program,
            "office_open": program.is_office_hours(now),
            "office_days": _office_days(program.office_days),
            "thread_messages": selectors.thread_messages(thread),
            "viewer_id": request.user.pk,
            "form": form,
        },
        status=status,
    )


@login_required
def family_thread(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The family's thread with the patient's care team (never the patient's own)."""
    patient = access_as_proxy(request, patient_id, scope=Proxy.Scope.MESSAGING)
    try:
        return _family_page(request, patient, FamilyMessageForm())
    except NoProgramError:
        raise Http404 from None


@login_required
@require_POST
def family_send(request: HttpRequest, patient_id: int) -> HttpResponse:
    form = FamilyMessageForm(request.POST)
    patient = access_as_proxy(
        request, patient_id, scope=Proxy.Scope.MESSAGING, action=Action.CREATE
    )
    try:
        if not form.is_valid():
            return _family_page(request, patient, form, status=400)
        result = services.message_send_by_proxy(
            patient=patient,
            author=request.user,  # type: ignore[arg-type]
            body=form.cleaned_data["body"],
            marked_urgent=form.cleaned_data["urgent"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except (DatabaseError, NoProgramError):
        logger.exception("A family message could not be saved")
        return not_delivered(request)
    _say_sent(
        request,
        result,
        urgent=_(
            "Thank you for telling us. We have asked the care team to contact you "
            "urgently. If someone is in danger now, call 988 or 911."
        ),
    )
    return redirect("messaging:family_thread", patient_id=patient.pk)


# --- Staff -------------------------------------------------------------------------


def _staff_context(request: HttpRequest) -> dict[str, object]:
    return {
        "nav": "messages",
        "can_register_patients": can_register_patients(request.staff_member),  # type: ignore[attr-defined]
    }


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    visible = patients_visible_to(user, category=CATEGORY, action=Action.VIEW)
    now = timezone.now()
    rows = selectors.inbox(patients=visible, now=now)
    # Part 2 threads only for those the gate lets read Part 2 (the care team); the others
    # are counted and the page says why they are hidden.
    part2_readable = set(
        patients_visible_to(user, category=Category.PART2, action=Action.VIEW)
        .filter(pk__in={r.thread.patient_id for r in rows if r.category == Category.PART2})
        .values_list("pk", flat=True)
    )
    shown = [
        r for r in rows if r.category != Category.PART2 or r.thread.patient_id in part2_readable
    ]
    record_lists(
        request,
        shown={
            category: [r.thread.patient for r in shown if r.category == category]
            for category in (Category.SHARED, Category.PART2)
        },
        purpose=Purpose.TREATMENT,
        obj_type="messaging.thread",
    )
    times = selectors.response_times(patients=visible, since=now - dt.timedelta(days=30))
    return render(
        request,
        "messaging/staff/inbox.html",
        {
            **_staff_context(request),
            "rows": shown,
            "hidden_part2": len(rows) - len(shown),
            "times": times,
            "may_edit_phrases": request.staff_member.role in PHRASE_EDITORS,  # type: ignore[attr-defined]
        },
    )


def _staff_thread(request: HttpRequest, thread_id: int, action: Action) -> Thread:
    user: User = request.user  # type: ignore[assignment]
    thread = selectors.staff_thread_for(user, thread_id)
    if thread is None:
        audit.record_denied(
            request, patient=None, category=CATEGORY, action=action, purpose=Purpose.TREATMENT
        )
        raise Http404
    access_patient(
        request,
        thread.patient_id,
        category=selectors.staff_category_for(thread),
        action=action,
        purpose=Purpose.TREATMENT,
    )
    return thread


def _may_write(request: HttpRequest, thread: Thread) -> bool:
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]
    if not staff.is_clinical:
        return False
    return decide(
        request.user,  # type: ignore[arg-type]
        thread.patient,
        category=selectors.staff_category_for(thread),
        action=Action.CREATE,
    ).allowed


def _staff_page(
    request: HttpRequest,
    thread: Thread,
    reply_form: StaffReplyForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    reply_form = reply_form or StaffReplyForm()
    if thread.is_family:  # the reply goes to the family, not to the patient
        reply_form.fields["body"].label = _("Reply to the family")
    return render(
        request,
        "messaging/staff/thread.html",
        {
            **_staff_context(request),
            "thread": thread,
            "program": program_of(thread.patient),
            "thread_messages": selectors.thread_messages(thread),
            "notes": list(thread.notes.select_related("author__staff_member")),
            "may_write": _may_write(request, thread),
            "reply_form": reply_form,
            "note_form": note_form or NoteForm(),
        },
        status=status,
    )


@staff_required
def staff_thread(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _staff_thread(request, thread_id, Action.VIEW)
    services.thread_mark_read(thread=thread, by_patient=False)
    return _staff_page(request, thread)


@staff_required
@require_POST
def staff_reply(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _staff_thread(request, thread_id, Action.CREATE)
    if not _may_write(request, thread):
        raise Http404
    form = StaffReplyForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, thread, reply_form=form, status=400)
    result = services.message_send_by_staff(
        thread=thread,
        author=request.user,  # type: ignore[arg-type]
        body=form.cleaned_data["body"],
        idempotency_key=form.cleaned_data["idempotency_key"],
    )
    if result.created:
        flash.success(request, _("Reply sent."))
    else:
        flash.info(request, _resent(result))
    return redirect("messaging:staff_thread", thread_id=thread.pk)


@staff_required
@require_POST
def staff_note(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _staff_thread(request, thread_id, Action.CREATE)
    if not _may_write(request, thread):
        raise Http404
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, thread, note_form=form, status=400)
    services.note_add(thread=thread, author=request.user, body=form.cleaned_data["note"])  # type: ignore[arg-type]
    flash.success(request, _("Note saved. Only staff can see it."))
    return redirect("messaging:staff_thread", thread_id=thread.pk)


# --- The program's crisis-phrase list ------------------------------------------------

PHRASE_EDITORS = frozenset({StaffMember.Role.CLINICAL_LEAD, StaffMember.Role.PROGRAM_ADMIN})


@staff_required
def crisis_phrases(request: HttpRequest) -> HttpResponse:
    """Clinical leads and program admins curate their programs' crisis-phrase lists."""
    from tether.messaging.crisis_language import DEFAULT_PHRASES, DEFAULT_PLEAS
    from tether.messaging.forms import PhraseForm
    from tether.messaging.models import CrisisPhrase

    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]
    if staff.role not in PHRASE_EDITORS:
        raise Http404
    programs = list(staff.programs.filter(is_active=True).order_by("name"))
    if not programs:
        raise Http404
    chosen = request.GET.get("program") or request.POST.get("program") or str(programs[0].pk)
    program = next((p for p in programs if str(p.pk) == chosen), None)
    if program is None:
        raise Http404
    form = PhraseForm()
    # Which list a POST changes: crisis language (the default) or pleas for help now.
    kind = request.POST.get("kind") or CrisisPhrase.Kind.CRISIS
    if kind not in CrisisPhrase.Kind.values:
        raise Http404
    if request.method == "POST":
        user: User = request.user  # type: ignore[assignment]
        if "turn_off" in request.POST or "turn_on" in request.POST:
            phrase = request.POST.get("turn_off") or request.POST.get("turn_on") or ""
            try:
                services.crisis_phrase_set(
                    program=program,
                    phrase=phrase,
                    active="turn_on" in request.POST,
                    user=user,
                    kind=kind,
                )
            except services.MessageError:
                raise Http404 from None
            return redirect(f"{request.path}?program={program.pk}")
        form = PhraseForm(request.POST)
        if form.is_valid():
            try:
                services.crisis_phrase_set(
                    program=program,
                    phrase=form.cleaned_data["phrase"],
                    active=True,
                    user=user,
                    kind=kind,
                )
            except services.MessageError:
                form.add_error("phrase", _("Write a phrase of at least one word."))
            else:
                flash.success(request, _("Phrase added."))
                return redirect(f"{request.path}?program={program.pk}")
    off = CrisisPhrase.objects.filter(program=program, is_active=False).order_by("phrase")
    lists = [
        {
            "kind": CrisisPhrase.Kind.CRISIS.value,
            "active": services.crisis_phrases_for(program),
            "defaults": set(DEFAULT_PHRASES),
            "turned_off": [r.phrase for r in off if r.kind == CrisisPhrase.Kind.CRISIS],
        },
        {
            "kind": CrisisPhrase.Kind.PLEA.value,
            "active": services.urgent_pleas_for(program),
            "defaults": set(DEFAULT_PLEAS),
            "turned_off": [r.phrase for r in off if r.kind == CrisisPhrase.Kind.PLEA],
        },
    ]
    return render(
        request,
        "messaging/staff/crisis_phrases.html",
        {
            **_staff_context(request),
            "programs": programs,
            "program": program,
            "lists": lists,
            "form": form,
            "kind": kind,
        },
        status=400 if form.errors else 200,
    )
