"""Consent, the accounting of disclosures (patient) and care coordination (staff)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from tether.accounts.models import User
from tether.consent import selectors, services, shared_device
from tether.consent.forms import (
    CATEGORY_WORDS,
    AmendmentDecisionForm,
    AmendmentForm,
    ConsentForm,
    CoordinationForm,
    MeasureExportForm,
    RecipientForm,
    StaffConsentForm,
    UrPacketForm,
)
from tether.consent.models import Amendment, ConsentDirective, Disclosure, Recipient
from tether.consent.notice import PART2_NOTICE_SHORT, PART2_SECURITY_LABELS
from tether.consent.pdf import consent_pdf
from tether.patients.models import Patient, Proxy
from tether.privacy import audit
from tether.privacy.gate import (
    access_own_record,
    access_patient,
    decide,
    disclosure_category_for,
    readable_categories,
)
from tether.privacy.models import AuditEvent, Purpose
from tether.privacy.policy import Action, Category
from tether.staff.access import staff_required

_BASE_CATEGORY = {
    Disclosure.Kind.ATTENDANCE_SUMMARY.value: Category.GENERAL,
    Disclosure.Kind.PROGRESS_SUMMARY.value: Category.MENTAL_HEALTH,
    Disclosure.Kind.DISCHARGE_SUMMARY.value: Category.MENTAL_HEALTH,
}


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def _discloser(patient: Patient) -> str:
    return str(patient.organization)


def _own_consent(
    request: HttpRequest, patient: Patient, consent_id: int, *, action: Action
) -> ConsentDirective:
    consent = ConsentDirective.objects.select_related("recipient").filter(pk=consent_id).first()
    if consent is None or consent.patient_id != patient.pk:
        audit.record(
            request=request,
            actor=_user(request),
            patient=consent.patient if consent is not None else None,
            action=action,
            category=Category.GENERAL,
            purpose=Purpose.PATIENT_REQUEST,
            outcome=AuditEvent.Outcome.DENIED,
            obj=consent,
        )
        raise Http404
    return consent


# --- The patient ---------------------------------------------------------------------


@login_required
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    consents = selectors.consents_of(patient)
    return render(
        request,
        "consent/patient_list.html",
        {
            "nav": "sharing",
            "in_force": [
                (c, selectors.staff_entry_text(c)) for c in consents if c.state == "in_force"
            ],
            "ended": [
                (c, selectors.staff_entry_text(c)) for c in consents if c.state != "in_force"
            ],
            "disclosures": list(selectors.disclosures_of(patient)),
            "words": CATEGORY_WORDS,
        },
    )


@login_required
def patient_new(request: HttpRequest) -> HttpResponse:
    # Signing a consent is the patient's own act: the gate is asked to create it.
    action = Action.CREATE if request.method == "POST" else Action.VIEW
    patient = access_own_record(request, category=Category.GENERAL, action=action)
    form = ConsentForm(request.POST or None, organization_id=patient.organization_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        consent = services.consent_sign(
            patient=patient,
            signed_by=_user(request),
            recipient=data["recipient"],
            category=Category(data["category"]),
            description=data["description"],
            purpose=Purpose(data["purpose"]),
            discloser=_discloser(patient),
            expires_on=data["expires_on"],
            signature_name=data["signature_name"],
        )
        messages.success(request, _("Signed. You can print a copy or take it back at any time."))
        return redirect("consent:patient_detail", consent_id=consent.pk)
    return render(
        request,
        "consent/patient_new.html",
        {
            "nav": "sharing",
            "form": form,
            "discloser": _discloser(patient),
            "revoke_statement": services.revoke_statement(),
            "redisclosure_statement": services.redisclosure_statement(),
            "refusal_statement": services.refusal_statement(),
        },
    )


@login_required
@require_GET
def patient_detail(request: HttpRequest, consent_id: int) -> HttpResponse:
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    consent = _own_consent(request, patient, consent_id, action=Action.VIEW)
    return render(
        request,
        "consent/patient_detail.html",
        {
            "nav": "sharing",
            "consent": consent,
            "terms": selectors.consent_terms(consent),
            "patient": patient,
            "words": CATEGORY_WORDS,
        },
    )


def _pdf_response(consent: ConsentDirective) -> HttpResponse:
    response = HttpResponse(consent_pdf(consent), content_type="application/pdf")
    # No name in the file name: it may sit in a shared Downloads folder.
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.pk}.pdf"'
    return response


@login_required
@require_GET
def patient_pdf(request: HttpRequest, consent_id: int) -> HttpResponse:
    """The signed consent as a PDF, for the patient themself."""
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    consent = _own_consent(request, patient, consent_id, action=Action.VIEW)
    return _pdf_response(consent)


@login_required
@require_POST
def patient_revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    patient = access_own_record(request, category=Category.GENERAL, action=Action.UPDATE)
    consent = _own_consent(request, patient, consent_id, action=Action.UPDATE)
    services.consent_revoke(consent=consent, revoked_by=_user(request))
    messages.success(request, _("Done. This consent has ended. Nothing more will be shared."))
    return redirect("consent:patient_list")


# --- Staff: care coordination ----------------------------------------------------------


def _disclosing_patient(
    request: HttpRequest, patient_id: int, category_of: Callable[[Patient], Category]
) -> tuple[Patient, Category]:
    """The patient whose records this POST sends outside the program, through the gate.

    The gate is asked for ``DISCLOSE`` (the care team only) of the category of what
    would be sent, derived from the patient's records and programs by ``category_of``,
    never from the form. Refused: 404 and a denied audit event, nothing sent.
    """
    user = _user(request)
    subject = Patient.objects.filter(
        pk=patient_id, organization_id=user.organization_id or 0
    ).first()
    category = category_of(subject) if subject is not None else Category.PART2
    patient = access_patient(
        request, patient_id, category=category, action=Action.DISCLOSE, purpose=Purpose.TREATMENT
    )
    return patient, category


def _update_category(patient: Patient, kind: str) -> Category:
    base = _BASE_CATEGORY.get(kind, Category.MENTAL_HEALTH)
    return disclosure_category_for(patient, base)


@staff_required
def staff_coordination(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.method != "POST":
        # Clinical staff who may read the clinical record see the page; only those who
        # may disclose (the care team) get the forms.
        patient = access_patient(
            request,
            patient_id,
            category=Category.MENTAL_HEALTH,
            action=Action.VIEW,
            purpose=Purpose.TREATMENT,
        )
        return _coordination_page(request, patient)
    kind = request.POST.get("kind", "")
    patient, category = _disclosing_patient(
        request, patient_id, lambda subject: _update_category(subject, kind)
    )
    form = CoordinationForm(request.POST, organization_id=patient.organization_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            disclosure = services.coordination_send(
                patient=patient,
                recipient=data["recipient"],
                kind=Disclosure.Kind(data["kind"]),
                category=category,
                content=data["content"],
                sent_by=_user(request),
            )
        except services.ConsentRefused:
            form.add_error(
                None,
                _(
                    "Not sent: the patient has no consent in force that lets this recipient "
                    "receive this kind of information. Nothing was shared."
                ),
            )
        else:
            messages.success(request, _("Sent, with the consent notice attached."))
            return redirect(
                "consent:staff_disclosure", patient_id=patient.pk, disclosure_id=disclosure.pk
            )
    return _coordination_page(request, patient, form=form)


def _coordination_page(
    request: HttpRequest,
    patient: Patient,
    *,
    form: CoordinationForm | None = None,
    export_form: MeasureExportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    part2 = disclosure_category_for(patient, Category.MENTAL_HEALTH) == Category.PART2
    may_send = decide(
        user,
        patient,
        category=disclosure_category_for(patient, Category.MENTAL_HEALTH),
        action=Action.DISCLOSE,
    ).allowed
    consents = [c for c in selectors.consents_of(patient) if c.state == "in_force"]
    disclosures = list(selectors.disclosures_of(patient))
    readable = readable_categories(
        request,
        patient,
        categories={c.category for c in consents} | {d.category for d in disclosures},
        purpose=Purpose.TREATMENT,
    )
    return render(
        request,
        "consent/staff_coordination.html",
        {
            "patient": patient,
            "may_send": may_send,
            "form": form or CoordinationForm(organization_id=patient.organization_id),
            "export_form": export_form
            or MeasureExportForm(organization_id=patient.organization_id, prefix="export"),
            "part2_program": part2,
            "can_manage_recipients": request.staff_member.role in services.RECIPIENT_ROLES,  # type: ignore[attr-defined]
            "disclosures": [d for d in disclosures if d.category in readable],
            "hidden_disclosures": sum(1 for d in disclosures if d.category not in readable),
            "consents": [c for c in consents if c.category in readable],
            "hidden_consents": sum(1 for c in consents if c.category not in readable),
            "words": CATEGORY_WORDS,
        },
        status=status,
    )


def _measure_category(patient: Patient) -> Category:
    from tether.consent import export

    return export.category_of(export.measure_rows(patient=patient))


@staff_required
@require_POST
def staff_measure_export(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Export the PHQ-9 and GAD-7 history to a recipient: a disclosure, checked against
    the patient's consent for the category the measures were labelled with."""
    patient, category = _disclosing_patient(request, patient_id, _measure_category)
    form = MeasureExportForm(request.POST, organization_id=patient.organization_id, prefix="export")
    if form.is_valid():
        try:
            disclosure = services.measure_history_send(
                patient=patient, recipient=form.cleaned_data["recipient"], sent_by=_user(request)
            )
        except services.NothingToExport:
            form.add_error(None, _("Not sent: there are no completed PHQ-9 or GAD-7 scores yet."))
        except services.ConsentRefused:
            if category == Category.PART2:
                message = _(
                    "Not sent: these scores are substance-use treatment records (42 CFR Part 2) "
                    "and the patient has no Part 2 consent in force for this recipient. "
                    "Nothing was shared."
                )
            else:
                message = _(
                    "Not sent: the patient has no consent in force that lets this recipient "
                    "receive their check-ins and questionnaires. Nothing was shared."
                )
            form.add_error(None, message)
        else:
            messages.success(
                request, _("Exported, with the consent notice at the top of the file.")
            )
            return redirect(
                "consent:staff_disclosure", patient_id=patient.pk, disclosure_id=disclosure.pk
            )
    return _coordination_page(request, patient, export_form=form)


@staff_required
@require_GET
def staff_disclosure(request: HttpRequest, patient_id: int, disclosure_id: int) -> HttpResponse:
    """What was sent: the document as the recipient received it (printable)."""
    patient = access_patient(
        request,
        patient_id,
        category=Category.MENTAL_HEALTH,
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    disclosure = (
        Disclosure.objects.select_related("recipient", "disclosed_by", "consent")
        .filter(pk=disclosure_id, patient=patient)
        .first()
    )
    if disclosure is None:
        raise Http404
    access_patient(
        request,
        patient_id,
        category=Category(disclosure.category),
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    return render(
        request,
        "consent/staff_disclosure.html",
        {
            "patient": patient,
            "disclosure": disclosure,
            "short_notice": PART2_NOTICE_SHORT,
            "labels": PART2_SECURITY_LABELS if disclosure.category == Category.PART2 else (),
        },
    )


def _released_copy(
    request: HttpRequest, patient_id: int, disclosure_id: int, kind: str
) -> Disclosure:
    """A released disclosure of this kind, read as the disclosure page is: through the
    gate for the clinical record, then for the disclosure's own category."""
    patient = access_patient(
        request,
        patient_id,
        category=Category.MENTAL_HEALTH,
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    disclosure = get_object_or_404(Disclosure, pk=disclosure_id, patient=patient, kind=kind)
    access_patient(
        request,
        patient_id,
        category=Category(disclosure.category),
        action=Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    return disclosure


@staff_required
@require_GET
def staff_disclosure_file(
    request: HttpRequest, patient_id: int, disclosure_id: int
) -> HttpResponse:
    """The exported file as sent (the notice on its first line), to hand to the recipient."""
    disclosure = _released_copy(request, patient_id, disclosure_id, Disclosure.Kind.MEASURE_HISTORY)
    response = HttpResponse(disclosure.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="measure-history-{disclosure.pk}.csv"'
    return response


# --- Staff: the utilization-review packet (issue 17) ------------------------------------


def _packet_patient(request: HttpRequest, patient_id: int) -> tuple[Patient, list[Category]]:
    """The patient whose packet this person would release, through the gate: DISCLOSE on
    every category the packet holds (the care team only), each asked and audited. Even
    the form is for them only: it shows which of the patient's consents are missing."""
    from tether.consent.packet import packet_categories

    user = _user(request)
    subject = Patient.objects.filter(
        pk=patient_id, organization_id=user.organization_id or 0
    ).first()
    categories = packet_categories(subject) if subject is not None else [Category.PART2]
    patient = None
    for category in categories:
        patient = access_patient(
            request, patient_id, category=category, action=Action.DISCLOSE, purpose=Purpose.PAYMENT
        )
    assert patient is not None  # noqa: S101 - at least one category
    return patient, categories


def _category_names(categories: list[Category]) -> str:
    return ", ".join(str(CATEGORY_WORDS.get(c.value, c.label)) for c in categories)


@staff_required
def staff_ur_packet(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Generate the utilization-review packet for a payer: a PDF released only under the
    patient's consents naming that payer for every category it holds (then it is in the
    patient's accounting of disclosures); refused, audited and nothing released otherwise."""
    patient, categories = _packet_patient(request, patient_id)
    form = UrPacketForm(request.POST or None, organization_id=patient.organization_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        from tether.consent.packet import PeriodRefused

        try:
            disclosure = services.ur_packet_send(
                patient=patient,
                recipient=data["recipient"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                summary=data["summary"],
                sent_by=_user(request),
            )
        except PeriodRefused as refused:
            nothing_shared = _("Nothing was shared.")
            form.add_error("period_end", f"{refused} {nothing_shared}")
        except services.NotAPayer:
            form.add_error("recipient", _("Choose a health plan or payer."))
        except services.PacketRefused as refused:
            form.add_error(
                None,
                _(
                    "Not released: the patient has no consent in force that lets %(payer)s "
                    "receive %(missing)s. Nothing was shared. The patient can sign one in "
                    "the portal, or here on a staff device."
                )
                % {"payer": data["recipient"], "missing": _category_names(refused.missing)},
            )
        else:
            messages.success(
                request, _("Released to the payer, with the notice on the first page.")
            )
            return redirect(
                "consent:staff_disclosure", patient_id=patient.pk, disclosure_id=disclosure.pk
            )
    elif request.method == "GET":
        today = timezone.localdate()
        form.initial = {"period_start": today.replace(day=1), "period_end": today}
    payers = list(form.fields["recipient"].queryset)  # type: ignore[attr-defined]
    consents = [
        c
        for c in selectors.consents_of(patient)
        if c.state == "in_force" and (c.recipient_id is None or c.recipient in payers)
    ]
    coverage = [
        (
            payer,
            [
                (
                    CATEGORY_WORDS.get(category.value, category.label),
                    any(
                        c.category == category.value
                        and (c.recipient_id == payer.pk or c.recipient_id is None)
                        for c in consents
                    ),
                )
                for category in categories
            ],
        )
        for payer in payers
    ]
    sent = [d for d in selectors.disclosures_of(patient) if d.kind == Disclosure.Kind.UR_PACKET]
    return render(
        request,
        "consent/staff_ur_packet.html",
        {
            "patient": patient,
            "form": form,
            "coverage": coverage,
            "part2": Category.PART2 in categories,
            "sent": sent,
            "can_manage_recipients": request.staff_member.role in services.RECIPIENT_ROLES,  # type: ignore[attr-defined]
        },
    )


@staff_required
@require_GET
def staff_ur_packet_pdf(request: HttpRequest, patient_id: int, disclosure_id: int) -> HttpResponse:
    """The packet's PDF exactly as released (a copy to send or keep), read as the
    disclosure page is: the clinical record, then the disclosure's own category."""
    import base64

    disclosure = _released_copy(request, patient_id, disclosure_id, Disclosure.Kind.UR_PACKET)
    response = HttpResponse(base64.b64decode(disclosure.document), content_type="application/pdf")
    # No name in the file name: it may sit in a shared Downloads folder.
    response["Content-Disposition"] = f'attachment; filename="ur-packet-{disclosure.pk}.pdf"'
    return response


@staff_required
def staff_recipients(request: HttpRequest) -> HttpResponse:
    """Recipients outside the program: only the roles that send care-coordination
    updates (``services.RECIPIENT_ROLES``) list and add them; anyone else gets a 404 and
    the refusal is recorded."""
    user = _user(request)
    staff = request.staff_member  # type: ignore[attr-defined]
    if user.organization_id is None or staff.role not in services.RECIPIENT_ROLES:
        audit.record(
            request=request,
            actor=user,
            patient=None,
            action=Action.CREATE if request.method == "POST" else Action.VIEW,
            category=Category.GENERAL,
            purpose=Purpose.OPERATIONS,
            outcome=AuditEvent.Outcome.DENIED,
        )
        raise Http404
    form = RecipientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.recipient_create(
            organization_id=user.organization_id,
            name=form.cleaned_data["name"],
            recipient_organization=form.cleaned_data["recipient_organization"],
            kind=form.cleaned_data["kind"],
            created_by=user,
            payer_identifier=form.cleaned_data["payer_identifier"],
            plan_identifier=form.cleaned_data["plan_identifier"],
        )
        messages.success(request, _("Recipient added."))
        return redirect("consent:staff_recipients")
    return render(
        request,
        "consent/staff_recipients.html",
        {
            "form": form,
            "recipients": list(Recipient.objects.filter(organization_id=user.organization_id)),
        },
    )


# --- The patient: family access ----------------------------------------------------------


@login_required
def patient_family(request: HttpRequest) -> HttpResponse:
    """The patient's family members and what each may see; an adult changes them here."""
    action = Action.UPDATE if request.method == "POST" else Action.VIEW
    patient = access_own_record(request, category=Category.GENERAL, action=action)
    adult = patient.age_on(timezone.localdate()) >= services.ADULT_AGE
    proxies = list(Proxy.objects.filter(patient=patient, is_active=True).select_related("user"))
    if request.method == "POST":
        if not adult:
            raise Http404
        proxy = next((p for p in proxies if str(p.pk) == request.POST.get("proxy")), None)
        scope_value = request.POST.get("scope", "")
        if proxy is None or scope_value not in Proxy.Scope.values:
            audit.record(
                request=request,
                actor=_user(request),
                patient=patient,
                action=Action.UPDATE,
                category=Category.GENERAL,
                purpose=Purpose.PATIENT_REQUEST,
                outcome=AuditEvent.Outcome.DENIED,
            )
            raise Http404
        granted = request.POST.get("granted") == "1"
        services.proxy_scope_set(
            proxy=proxy, scope=Proxy.Scope(scope_value), granted=granted, changed_by=_user(request)
        )
        messages.success(request, _("Saved. The change works at once."))
        return redirect("consent:patient_family")
    rows = [
        {
            "proxy": p,
            "scopes": [(s, s.value in p.scopes) for s in Proxy.Scope],
        }
        for p in proxies
    ]
    return render(
        request,
        "consent/patient_family.html",
        {"nav": "sharing", "rows": rows, "adult": adult},
    )


# --- Amendments (ONC (d)(4)) --------------------------------------------------------------


@login_required
def patient_amendments(request: HttpRequest) -> HttpResponse:
    # Asking for a correction appends the request to the record (45 CFR 164.526).
    action = Action.CREATE if request.method == "POST" else Action.VIEW
    patient = access_own_record(request, category=Category.MENTAL_HEALTH, action=action)
    form = AmendmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.amendment_request(
            patient=patient,
            about=form.cleaned_data["about"],
            correction=form.cleaned_data["correction"],
            requested_by=_user(request),
        )
        messages.success(request, _("Sent. Your care team will answer, and you will see it here."))
        return redirect("consent:patient_amendments")
    return render(
        request,
        "consent/patient_amendments.html",
        {
            "nav": "sharing",
            "form": form,
            "amendments": list(
                Amendment.objects.filter(patient=patient).select_related("decided_by")
            ),
        },
    )


@staff_required
def staff_amendments(request: HttpRequest, patient_id: int) -> HttpResponse:
    writing = request.method == "POST"
    patient = access_patient(
        request,
        patient_id,
        category=Category.MENTAL_HEALTH,
        action=Action.UPDATE if writing else Action.VIEW,
        purpose=Purpose.TREATMENT,
    )
    amendments = list(Amendment.objects.filter(patient=patient).select_related("decided_by"))
    posted = request.POST.get("amendment") if writing else None
    rows = []
    for amendment in amendments:
        data = request.POST if posted == str(amendment.pk) else None
        rows.append((amendment, AmendmentDecisionForm(data, prefix=f"a{amendment.pk}")))
    if writing:
        row = next((r for r in rows if str(r[0].pk) == posted), None)
        if row is None or row[0].status != Amendment.Status.REQUESTED:
            raise Http404
        amendment, form = row
        if form.is_valid():
            services.amendment_decide(
                amendment=amendment,
                accept=form.cleaned_data["decision"] == "accept",
                note=form.cleaned_data["note"],
                decided_by=_user(request),
            )
            messages.success(request, _("Decision saved and added to the record."))
            return redirect("consent:staff_amendments", patient_id=patient.pk)
    return render(
        request,
        "consent/staff_amendments.html",
        {"patient": patient, "rows": rows},
    )


# --- Shared-device view -------------------------------------------------------------------


@login_required
def device(request: HttpRequest) -> HttpResponse:
    """Mark this device as shared (or not)."""
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    del patient
    if request.method == "POST":
        shared = request.POST.get("shared") == "1"
        response = redirect("consent:quick_view" if shared else "consent:device")
        shared_device.mark(response, shared=shared)
        if shared:
            request.session.pop(shared_device.FULL_VIEW, None)
            request.session.pop(shared_device.PART2_SHOWN, None)
            messages.success(request, _("This device is marked as shared."))
        else:
            messages.success(request, _("This device is no longer marked as shared."))
        return response
    return render(
        request,
        "consent/device.html",
        {"nav": "sharing", "shared": shared_device.is_shared(request)},
    )


@login_required
@require_GET
def quick_view(request: HttpRequest) -> HttpResponse:
    """Only appointments, general help and crisis help: nothing clinical."""
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    from tether.portal import selectors as portal_selectors

    return render(
        request,
        "consent/quick_view.html",
        {
            "nav": "home",
            "upcoming": list(portal_selectors.upcoming_sessions(patient=patient)),
            "shared": shared_device.is_shared(request),
        },
    )


@login_required
def unlock(request: HttpRequest) -> HttpResponse:
    """A fresh full sign-in: the password again, on this device."""
    user = _user(request)
    access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    error = ""
    if request.method == "POST":
        if authenticate(request, username=user.username, password=request.POST.get("password", "")):
            request.session.cycle_key()
            request.session[shared_device.FULL_VIEW] = True
            return redirect("portal:home")
        error = _("That password is not right. Try again.")
    return render(request, "consent/unlock.html", {"nav": "home", "error": error})


@login_required
def show_part2(request: HttpRequest) -> HttpResponse:
    """The affirmative step before substance-use treatment information shows."""
    access_own_record(request, category=Category.PART2, action=Action.VIEW)
    if shared_device.is_shared(request) and not request.session.get(shared_device.FULL_VIEW):
        return redirect("consent:unlock")
    if request.method == "POST":
        request.session[shared_device.PART2_SHOWN] = True
        return redirect("portal:home")
    return render(request, "consent/show_part2.html", {"nav": "home"})


@staff_required
def staff_family(request: HttpRequest, patient_id: int) -> HttpResponse:
    """An adolescent's family access, set by the care team under the program's policy and
    only with the adolescent's assent. (An adult patient sets their own.)"""
    writing = request.method == "POST"
    patient = access_patient(
        request,
        patient_id,
        category=Category.MENTAL_HEALTH,
        action=Action.UPDATE,  # the care team only, even to look
        purpose=Purpose.TREATMENT,
    )
    adult = patient.age_on(timezone.localdate()) >= services.ADULT_AGE
    proxies = list(Proxy.objects.filter(patient=patient, is_active=True).select_related("user"))
    error = ""
    if writing:
        proxy = next((p for p in proxies if str(p.pk) == request.POST.get("proxy")), None)
        scope_value = request.POST.get("scope", "")
        if adult or proxy is None or scope_value not in Proxy.Scope.values:
            raise Http404
        if request.POST.get("assent") != "1":
            error = _("Ask the patient first, and tick that they agreed.")
        else:
            services.proxy_scope_set(
                proxy=proxy,
                scope=Proxy.Scope(scope_value),
                granted=request.POST.get("granted") == "1",
                changed_by=_user(request),
            )
            messages.success(request, _("Saved. The change works at once."))
            return redirect("consent:staff_family", patient_id=patient.pk)
    rows = [
        {"proxy": p, "scopes": [(s, s.value in p.scopes) for s in Proxy.Scope]} for p in proxies
    ]
    return render(
        request,
        "consent/staff_family.html",
        {"patient": patient, "rows": rows, "adult": adult, "error": error},
    )


@staff_required
@require_GET
def staff_consent_pdf(request: HttpRequest, patient_id: int, consent_id: int) -> HttpResponse:
    """The signed consent as a PDF, for the patient's care team only."""
    patient = access_patient(
        request,
        patient_id,
        category=Category.MENTAL_HEALTH,
        action=Action.UPDATE,  # the care team only, as for family access
        purpose=Purpose.TREATMENT,
    )
    consent = get_object_or_404(
        ConsentDirective.objects.select_related("recipient", "patient"),
        pk=consent_id,
        patient=patient,
    )
    return _pdf_response(consent)


@staff_required
def staff_consent_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient reads and signs a consent on a staff device, as their own act.

    Only the patient's care team: the gate is asked for DISCLOSE on the mental-health
    record (and on Part 2 for a Part 2 consent), the right of the people who release
    records under a consent, which the care team alone holds (a clinical lead or on-call
    may create follow-up notes, not consents); never the front desk. The patient does a step only they
    can do (their own password, or an in-person signature with their identity document
    checked); the staff member is recorded as the one who entered and witnessed it.
    """
    patient = access_patient(
        request,
        patient_id,
        category=services.STAFF_ENTRY_CATEGORY,
        action=Action.DISCLOSE,
        purpose=Purpose.PATIENT_REQUEST,
    )
    form = StaffConsentForm(request.POST or None, organization_id=patient.organization_id)
    minor = patient.age_on(timezone.localdate()) < services.ADULT_AGE
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        category = Category(data["category"])
        if category == Category.PART2:
            access_patient(
                request,
                patient_id,
                category=Category.PART2,
                action=Action.DISCLOSE,
                purpose=Purpose.PATIENT_REQUEST,
            )
        try:
            services.consent_enter_on_staff_device(
                request=request,
                patient=patient,
                entered_by=_user(request),
                patient_confirmed=data["patient_confirmation"],
                patient_password=data.get("patient_password") or "",
                identity_document=data.get("identity_document") or "",
                recipient=data["recipient"],
                category=category,
                description=data["description"],
                purpose=Purpose(data["purpose"]),
                discloser=_discloser(patient),
                expires_on=data["expires_on"],
                signature_name=data["signature_name"],
            )
        except services.MinorConsentRefused:
            form.add_error(None, _MINOR_REFUSED)
        except services.ConsentNotConfirmed:
            form.add_error(
                "patient_password",
                _("That password is not right. The patient types their own password."),
            )
        else:
            messages.success(
                request, _("Signed. The patient can print it or take it back in the portal.")
            )
            return redirect("staff:patient_detail", patient_id=patient.pk)
    return render(
        request,
        "consent/staff_consent_new.html",
        {
            "patient": patient,
            "form": form,
            "minor": minor,
            "minor_refused": _MINOR_REFUSED,
            "discloser": _discloser(patient),
            "revoke_statement": services.revoke_statement(),
            "redisclosure_statement": services.redisclosure_statement(),
            "refusal_statement": services.refusal_statement(),
        },
    )


_MINOR_REFUSED = gettext_lazy(
    "This patient is under 18. Who signs a minor's consent depends on federal and state "
    "rules this program has not set out here yet, so it cannot be entered on this device: "
    "take it on paper with the privacy officer."
)
