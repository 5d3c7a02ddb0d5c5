"""The staff area: patient list, intake, a patient's overview, invites and reset codes."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tether.accounts import services as account_services
from tether.accounts.confirmation import CHANNELS
from tether.accounts.models import ResetCode
from tether.checkins import selectors as checkins_selectors
from tether.consent import selectors as consent_selectors
from tether.homework import selectors as homework_selectors
from tether.lib.qr import qr_svg
from tether.lib.urls import per_id
from tether.messaging import selectors as messaging_selectors
from tether.outreach.models import ContactPreference
from tether.patients.models import Patient
from tether.patients.services import patient_register
from tether.privacy import audit
from tether.privacy.gate import access_patient, decide, record_category_for
from tether.privacy.list_audit import record_list, record_lists
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category, Relation
from tether.staff import caseload, selectors
from tether.staff import review as staff_review
from tether.staff.access import can_register_patients, staff_required
from tether.staff.forms import PatientIntakeForm, ResetCodeConfirmationForm


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    staff = request.staff_member  # type: ignore[attr-defined]
    return {"can_register_patients": can_register_patients(staff), **extra}


@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Clinicians get the caseload board; other roles the plain patient list."""
    if caseload.is_clinical(request.user):  # type: ignore[arg-type]
        sort = request.GET.get("sort", "sessions")
        if sort not in caseload.SORTS:
            sort = "sessions"
        board = caseload.caseload_page(
            user=request.user,  # type: ignore[arg-type]
            sort=sort,
            page=request.GET.get("page"),
            per_page=caseload.PER_PAGE,
        )
        rows = board.rows
        record_lists(
            request,
            shown={
                Category.SELF_REPORT: [r for r in rows if not r.shows_part2],
                Category.PART2: [r for r in rows if r.shows_part2],
            },
            purpose=Purpose.TREATMENT,
            obj_type="staff.caseload",
        )
        return render(
            request,
            "staff/caseload.html",
            _context(request, nav="dashboard", rows=rows, sort=sort, board=board),
        )
    # Paged: a program's list grows with every admission (one count, one page of rows).
    listing: Page[Patient] = Paginator(
        selectors.PatientList(request.user),  # type: ignore[arg-type]
        caseload.PER_PAGE,
    ).get_page(request.GET.get("page"))
    patients = list(listing.object_list)
    record_url = per_id("staff:patient_detail")  # reversed once (tether.lib.urls)
    for patient in patients:
        patient.record_url = record_url(patient.pk)  # type: ignore[attr-defined]
    record_list(
        request,
        patients=patients,
        category=Category.GENERAL,
        purpose=Purpose.TREATMENT,
        obj_type="patients.patient",
    )
    return render(
        request,
        "staff/dashboard.html",
        _context(request, nav="dashboard", patients=patients, listing=listing),
    )


@staff_required
def patient_create(request: HttpRequest) -> HttpResponse:
    staff = request.staff_member  # type: ignore[attr-defined]
    if not can_register_patients(staff):
        raise Http404
    form = PatientIntakeForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient = patient_register(
            registered_by=staff,
            program=data["program"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            preferred_name=data["preferred_name"],
            date_of_birth=data["date_of_birth"],
            record_number=data["record_number"],
            mobile_phone=data["mobile_phone"],
            email=data["email"],
            level_of_care=data["level_of_care"],
            admitted_on=data["admitted_on"],
            primary_therapist=data["primary_therapist"],
            language=data["language"],
        )
        return redirect("staff:patient_detail", patient_id=patient.pk)
    return render(request, "staff/patient_create.html", _context(request, nav="intake", form=form))


@staff_required
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient(
        request,
        patient_id,
        category=Category.GENERAL,
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    return render(
        request,
        "staff/patient_detail.html",
        _context(
            request,
            patient=patient,
            self_report=checkins_selectors.staff_self_report(request, patient=patient),
            care_work=homework_selectors.staff_summary(request=request, patient=patient),
            reach=messaging_selectors.staff_reach_summary(user=request.user, patient=patient),  # type: ignore[arg-type]
            consent=consent_selectors.staff_summary(user=request.user, patient=patient),  # type: ignore[arg-type]
            # Read for the patient the gate just opened (issue 16: a failing number).
            texts_failing_since=ContactPreference.objects.filter(
                patient=patient, sms_failing_since__isnull=False
            )
            .values_list("sms_failing_since", flat=True)
            .first(),
            **selectors.patient_overview(patient=patient),
        ),
    )


@staff_required
@require_POST
def invite_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A new invite link and QR code, shown once (the token is not stored in clear).

    Only for a patient who has never chosen a password: an account in use is never
    handed over by an invite (a reset code, with the patient's confirmation, is the way).
    """
    patient = access_patient(
        request,
        patient_id,
        category=Category.GENERAL,
        action=Action.CREATE,
        purpose=Purpose.OPERATIONS,
    )
    if patient.user is None:
        raise Http404
    try:
        issued = account_services.invite_create(user=patient.user, created_by=request.user)  # type: ignore[arg-type]
    except account_services.AccountInUse:
        return render(request, "staff/invite_in_use.html", _context(request, patient=patient))
    url = settings.SITE_URL.rstrip("/") + reverse("accounts:invite", args=[issued.token])
    return render(
        request,
        "staff/invite.html",
        _context(
            request,
            patient=patient,
            invite=issued.invite,
            invite_url=url,
            qr_svg=qr_svg(url),
        ),
    )


@staff_required
@require_POST
def reset_code_issue(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A reset code for an account in use, after the patient confirms it is them: the
    first POST (the button) shows how; the second gives the code."""
    patient = access_patient(
        request,
        patient_id,
        category=Category.GENERAL,
        action=Action.UPDATE,
        purpose=Purpose.OPERATIONS,
    )
    if patient.user is None or not patient.user.has_usable_password():
        raise Http404
    asked = "confirmation" in request.POST
    form = ResetCodeConfirmationForm(request.POST if asked else None, user=patient.user)
    if asked and form.is_valid():
        data = form.cleaned_data
        try:
            issued = account_services.reset_code_issue(
                user=patient.user,
                created_by=request.user,  # type: ignore[arg-type]
                confirmation=ResetCode.Confirmation(data["confirmation"]),
                identity_document=data.get("identity_document") or "",
                channel=data.get("channel") or "",
                request=request,
            )
        except account_services.ConfirmationMissing:
            form.add_error(None, _("Choose how the patient confirms it is them."))
        else:
            channel = CHANNELS.get(issued.reset_code.channel)
            return render(
                request,
                "staff/reset_code.html",
                _context(
                    request,
                    patient=patient,
                    issued=issued,
                    sent_to=channel.masked_address(patient.user) if channel else "",
                ),
            )
    return render(
        request,
        "staff/reset_code_confirm.html",
        _context(request, patient=patient, form=form),
    )


@staff_required
def review(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The pre-session review: since the last attended session, in one screen."""
    patient = access_patient(
        request,
        patient_id,
        category=Category.SELF_REPORT,
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    # The gate has this patient's relations already (access_patient, above): these
    # decisions cost no query, and the page's audit rows are written together at its end.
    staff_review.record_review_opened(request, patient=patient)
    part2 = decide(request.user, patient, category=Category.PART2, action=Action.VIEW)  # type: ignore[arg-type]
    data = staff_review.review_data(patient=patient, include_part2=part2.allowed)
    # The latest lines the patient wrote (shared records): asked of the gate and audited
    # as a look at the shared record; not part of the note text.
    latest_lines = None
    shared = decide(request.user, patient, category=Category.SHARED, action=Action.VIEW)  # type: ignore[arg-type]
    if shared.allowed:
        audit.record_access(
            request,
            patient=patient,
            category=Category.SHARED,
            action=Action.VIEW,
            # Under a break-glass grant every look is emergency treatment (42 CFR 2.51).
            purpose=Purpose.EMERGENCY
            if shared.relation == Relation.BREAK_GLASS
            else Purpose.TREATMENT,
            relation=shared.relation,
        )
        latest_lines = messaging_selectors.latest_patient_lines(
            patient=patient, include_part2=part2.allowed
        )
    return render(
        request,
        "staff/review.html",
        _context(
            request,
            nav="dashboard",
            patient=patient,
            review=data,
            # Part 2 check-ins the gate keeps from this user: say so, never "none yet".
            part2_hidden=not part2.allowed
            and record_category_for(patient, Category.SELF_REPORT) == Category.PART2,
            latest_lines=latest_lines,
            note=staff_review.note_text(data),
        ),
    )
