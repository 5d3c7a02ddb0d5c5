"""The flag queue: open flags across the user's programs, ranked, and the steps taken
on each (acknowledge, assign, document, resolve); and the rules settings page where a
program's clinical lead or admin changes its rules. Thin views over the services."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tether.flags import selectors, services
from tether.flags.forms import RuleForm, SnoozeForm, uses_window
from tether.flags.models import Flag, FlagRule, Severity
from tether.flags.rules import RULES, SPECS
from tether.lib.text import clean_free_text
from tether.organizations.models import Program, StaffMember
from tether.privacy import audit
from tether.privacy.gate import access_patient
from tether.privacy.list_audit import record_lists
from tether.privacy.models import Purpose
from tether.privacy.policy import Action, Category
from tether.staff.access import staff_required

# Who changes a program's flag rules: its clinical lead and its program admin.
RULE_EDITORS = frozenset({StaffMember.Role.CLINICAL_LEAD, StaffMember.Role.PROGRAM_ADMIN})


def _clinical_only(request: HttpRequest) -> None:
    if not selectors._is_clinical(request.user):  # type: ignore[arg-type]
        raise Http404


def _rule_choices() -> list[tuple[str, str]]:
    choices = [(code, str(spec.label)) for code, spec in RULES.items()]
    choices += [(reason.value, str(reason.label)) for reason in Flag.Reason]
    return sorted(choices, key=lambda choice: choice[1])


def _back_to_queue(request: HttpRequest) -> str:
    """Back to the queue with the filters the person was using (only ever this page)."""
    sent = QueryDict(request.POST.get("back", ""))
    kept = QueryDict(mutable=True)
    for name in ("severity", "rule", "clinician", "age", "patient", "overdue", "page"):
        if sent.get(name):
            kept[name] = sent[name]
    url = reverse("flags:queue")
    return f"{url}?{kept.urlencode()}" if kept else url


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


def _queue_page(
    request: HttpRequest, *, typed: dict[str, object] | None = None, status: int = 200
) -> HttpResponse:
    """The queue; ``typed`` brings back a refused resolve form as it was filled in."""
    _clinical_only(request)
    now = timezone.now()
    filters = selectors.QueueFilters.from_query(request.GET.dict())
    page_number = request.GET.get("page", "1")
    found = selectors.queue_page(
        user=request.user,  # type: ignore[arg-type]
        filters=filters,
        page=int(page_number) if page_number.isdigit() else 1,
        now=now,
    )
    groups, pages, overdue, snoozed = found.groups, found.pages, found.overdue, found.snoozed
    shown = [flag for group in groups for flag in group.flags] + snoozed
    record_lists(
        request,
        shown={
            category: [f.patient for f in shown if f.record_category == category]
            for category in (Category.SELF_REPORT, Category.PART2)
        },
        purpose=Purpose.TREATMENT,
        obj_type="flags.flag",
    )
    figures = selectors.figures_for(
        user=request.user,  # type: ignore[arg-type]
        since=now - dt.timedelta(weeks=8),
    )
    _with_sentences(groups, now=now)
    query = request.GET.copy()
    query.pop("page", None)
    current = int(page_number) if page_number.isdigit() else 1
    current = min(max(current, 1), pages)
    return render(
        request,
        "flags/queue.html",
        {
            "nav": "flags",
            "groups": groups,
            "pages": pages,
            "page": current,
            "overdue": overdue,
            "overdue_hours": settings.TETHER_HIGH_FLAG_ACK_HOURS,
            "filters": filters,
            "filter_query": query.urlencode(),
            "rule_choices": _rule_choices(),
            "clinician_options": selectors.clinicians_for_filter(user=request.user),  # type: ignore[arg-type]
            "snoozed": snoozed,
            "figures": figures,
            # Translated once: each flag's resolve form repeats them (lazy labels were
            # translated again for every flag).
            "actions": [(value, str(label)) for value, label in Flag.Action.choices],
            "may_edit_rules": request.staff_member.role in RULE_EDITORS,  # type: ignore[attr-defined]
            "typed": typed or {},
            "flag_words": _flag_words(),
            "overdue_label": _("not acknowledged for more than %(hours)s hours")
            % {"hours": settings.TETHER_HIGH_FLAG_ACK_HOURS},
        },
        status=status,
    )


def _flag_words() -> dict[str, str]:
    """The words every flag of the queue repeats, translated once (its rows' template
    has no words of its own: tether/lib/jinja.py)."""
    return {
        "review": _("Pre-session review"),
        "no_mobile": _("No mobile number on file"),
        "only": _("Only this patient"),
        "overdue": _("Overdue"),
        "evidence": _("See the evidence"),
        "not_ack": _("Not acknowledged yet."),
        "ack": _("Acknowledge"),
        "assign": _("Assign to me"),
        "resolve_more": _("Resolve…"),
        "done": _("What was done"),
        "choose": _("Choose…"),
        "note": _("Note (needed when no action was taken)"),
        "resolve": _("Resolve"),
        "snooze": _("Snooze with a reason and a date"),
    }


def _with_sentences(groups: list[selectors.PatientFlags], *, now: dt.datetime) -> None:
    """Each group's and flag's sentences, translated here for the rows' template (the
    severities' and kinds' names once for the page)."""
    severities = {value: str(label) for value, label in Severity.choices}
    kinds = {value: str(label) for value, label in Flag.Kind.choices}
    for group in groups:
        count = len(group.flags)
        group.count_label = ngettext("%(counter)s open flag", "%(counter)s open flags", count) % {
            "counter": count
        }
        group.call_label = _("Call %(phone)s") % {"phone": group.patient.mobile_phone}
        for flag in group.flags:
            flag.severity_label = severities.get(flag.severity, str(flag.severity))  # type: ignore[attr-defined]
            flag.kind_label = kinds.get(flag.kind, flag.kind)  # type: ignore[attr-defined]
            flag.raised_label = _("raised %(ago)s ago") % {  # type: ignore[attr-defined]
                "ago": timesince(flag.raised_at, now)
            }
            if flag.acknowledged_by is not None:
                flag.acknowledged_label = _("Acknowledged by %(who)s.") % {  # type: ignore[attr-defined]
                    "who": flag.acknowledged_by.get_full_name()
                }
            if flag.assigned_to is not None:
                flag.assigned_label = _("Assigned to %(who)s.") % {  # type: ignore[attr-defined]
                    "who": flag.assigned_to.get_full_name()
                }


@staff_required
@require_POST
def act(request: HttpRequest, flag_id: int) -> HttpResponse:
    user = request.user
    flag = (
        Flag.objects.filter(pk=flag_id, organization_id=getattr(user, "organization_id", 0) or 0)
        .select_related("patient")
        .first()
    )
    if flag is None or not selectors._is_clinical(user):  # type: ignore[arg-type]
        audit.record_denied(
            request,
            patient=flag.patient if flag is not None else None,
            category=selectors.follow_up_category(flag) if flag else Category.MENTAL_HEALTH,
            action=Action.CREATE,
            purpose=Purpose.TREATMENT,
        )
        raise Http404
    # Acting on a flag writes a clinical note about the patient: the gate is asked to
    # create one of the flag's follow-up category (a 404 and a denied event otherwise).
    access_patient(
        request,
        flag.patient_id,
        category=selectors.follow_up_category(flag),
        action=Action.CREATE,
        purpose=Purpose.TREATMENT,
    )
    step = request.POST.get("step", "")
    try:
        if step == "acknowledge":
            services.flag_acknowledge(actor=user, flag=flag)  # type: ignore[arg-type]
            messages.success(request, _("Flag acknowledged."))
        elif step == "assign_me":
            services.flag_assign(actor=user, flag=flag, assignee=user)  # type: ignore[arg-type]
            messages.success(request, _("Flag assigned to you."))
        elif step == "resolve":
            action = request.POST.get("action", "")
            note = clean_free_text(request.POST.get("note", ""))
            try:
                services.flag_resolve(
                    actor=user,  # type: ignore[arg-type]
                    flag=flag,
                    action=action,
                    note=note,
                )
            except ValidationError as error:
                # The queue again, with what was chosen and written kept in this flag's form.
                messages.error(request, error.messages[0])
                typed = {"flag": flag.pk, "action": action, "note": note}
                return _queue_page(request, typed=typed, status=400)
            messages.success(request, _("Flag resolved and the action documented."))
        else:
            messages.error(request, _("Choose what to do with the flag."))
    except (ValidationError, PermissionDenied) as error:
        text = error.messages[0] if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
    return redirect(_back_to_queue(request))


@staff_required
def snooze(request: HttpRequest, flag_id: int) -> HttpResponse:
    """Snooze one open flag with a date and a reason (``flag_snooze``); what was typed
    stays on the page when it is refused."""
    _clinical_only(request)
    flag = (
        selectors.queue_for(user=request.user)  # type: ignore[arg-type]
        .filter(pk=flag_id, status=Flag.Status.OPEN)
        .select_related("patient", "rule")
        .first()
    )
    if flag is None:
        raise Http404
    form = SnoozeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.flag_snooze(
                actor=request.user,  # type: ignore[arg-type]
                flag=flag,
                until=form.cleaned_data["until"],
                reason=form.cleaned_data["reason"],
            )
        except (ValidationError, PermissionDenied) as error:
            text = error.messages[0] if isinstance(error, ValidationError) else str(error)
            form.add_error(None, text)
        else:
            messages.success(request, _("Flag snoozed."))
            return redirect("flags:queue")
    return render(
        request,
        "flags/snooze.html",
        {"nav": "flags", "flag": flag, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


# The rules settings page ----------------------------------------------------------


def _editable_programs(request: HttpRequest) -> list[Program]:
    """The active programs whose rules this person may change; 404 for anyone else."""
    staff: StaffMember = request.staff_member  # type: ignore[attr-defined]
    if staff.role not in RULE_EDITORS:
        raise Http404
    programs = list(
        staff.programs.filter(organization_id=staff.organization_id, is_active=True).order_by(
            "name"
        )
    )
    if not programs:
        raise Http404
    return programs


def _row(rule: FlagRule, precision: selectors.Precision | None = None) -> dict[str, object]:
    spec = RULES[rule.code]
    return {
        "rule": rule,
        "precision": precision,
        "spec": spec,
        "uses_window": uses_window(rule.code),
        "meaning": str(spec.sentence) % {"value": rule.threshold, "days": rule.window_days},
    }


# The rules page shows how each rule's flags were judged over this many days.
PRECISION_DAYS = 90

_ORDER = {spec.code: position for position, (spec, _evaluate) in enumerate(SPECS)}


@staff_required
def rules(request: HttpRequest) -> HttpResponse:
    programs = _editable_programs(request)
    # A program that no sweep has seen yet gets its default rules now (idempotent).
    services.rules_ensure_defaults(programs=programs)
    by_program: dict[int, list[FlagRule]] = {p.pk: [] for p in programs}
    for rule in FlagRule.objects.filter(program__in=programs):
        if rule.code in RULES:
            by_program[rule.program_id].append(rule)
    precision = selectors.precision_by_rule(
        rule_ids=[r.pk for rules_ in by_program.values() for r in rules_],
        since=timezone.now() - dt.timedelta(days=PRECISION_DAYS),
    )
    tables = [
        {
            "program": program,
            "rows": [
                _row(r, precision.get(r.pk))
                for r in sorted(by_program[program.pk], key=lambda r: _ORDER[r.code])
            ],
        }
        for program in programs
    ]
    return render(
        request,
        "flags/rules.html",
        {"nav": "flags", "tables": tables, "precision_days": PRECISION_DAYS},
    )


@staff_required
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    programs = _editable_programs(request)
    rule = (
        FlagRule.objects.filter(pk=rule_id, program__in=programs).select_related("program").first()
    )
    if rule is None or rule.code not in RULES:
        raise Http404
    form = RuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_update(
                actor=request.user,  # type: ignore[arg-type]
                rule=rule,
                threshold=form.cleaned_data["threshold"],
                window_days=form.cleaned_window(),
                severity=form.cleaned_data["severity"],
                enabled=form.cleaned_data["enabled"],
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(
                request,
                _("Rule “%(rule)s” saved for %(program)s.")
                % {"rule": RULES[rule.code].label, "program": rule.program.name},
            )
            return redirect(f"{reverse('flags:rules')}#rule-{rule.pk}")
    return render(
        request,
        "flags/rule_edit.html",
        {"nav": "flags", "form": form, **_row(rule)},
        status=400 if form.is_bound and form.errors else 200,
    )
