"""Audit reports (ONC 170.315(d)(3)): the organization's trail, filtered and exported.

For the organization's privacy officers and clinical leads only; anyone else gets a
404 (and the refusal is audited). Reading the report is itself an access to patient
data, so each page and each export is recorded with the AUDIT purpose.
"""

from __future__ import annotations

import csv
import zoneinfo
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tether.accounts.models import User
from tether.organizations.models import StaffMember
from tether.patients.models import Patient
from tether.privacy import audit
from tether.privacy.forms import AuditQueryForm, AuditSearchForm
from tether.privacy.models import AuditEvent, AuditSeal, Purpose
from tether.privacy.policy import Action, Category, Relation
from tether.privacy.selectors import (
    audit_report_events,
    may_see_audit_reports,
    organization_time_zone,
)
from tether.staff.access import can_register_patients

PAGE_SIZE = 50

_ROLE_LABELS: dict[str, object] = {
    **dict(StaffMember.Role.choices),
    "patient": User.Kind.PATIENT.label,
    "proxy": User.Kind.PROXY.label,
    "system": gettext_lazy("Tether (automatic)"),
    "anonymous": gettext_lazy("Not signed in"),
}
_LABELS = {
    "relation": dict(Relation.choices),
    "action": dict(Action.choices),
    "category": dict(Category.choices),
    "purpose": dict(Purpose.choices),
    "outcome": dict(AuditEvent.Outcome.choices),
}


def _officer(request: HttpRequest, *, action: Action) -> User | HttpResponse:
    """The signed-in officer, a redirect to sign in, or Http404 (audited)."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    assert isinstance(user, User)  # noqa: S101 - AUTH_USER_MODEL
    if not may_see_audit_reports(user):
        audit.record_denied(
            request, patient=None, category=Category.GENERAL, action=action, purpose=Purpose.AUDIT
        )
        raise Http404
    return user


def _nav(user: User) -> dict[str, object]:
    """What the staff menu needs (the same links as on every staff page)."""
    return {"nav": "audit", "can_register_patients": can_register_patients(user.staff_member)}


def _label(kind: str, code: str) -> str:
    return str(_LABELS[kind].get(code, code)) if code else ""


def _row(event: AuditEvent, tz: zoneinfo.ZoneInfo) -> dict[str, Any]:
    actor: User | None = event.actor
    patient: Patient | None = event.patient
    return {
        "event": event,
        "time": timezone.localtime(event.occurred_at, tz),
        "actor_name": (actor.get_full_name() or actor.username) if actor is not None else "",
        "actor_username": actor.username if actor is not None else "",
        "role": str(_ROLE_LABELS.get(event.actor_role, event.actor_role)),
        "acting_as": _label("relation", event.acting_as),
        "relation": _label("relation", event.relation),
        "patient_name": patient.display_name if patient is not None else "",
        "record_number": patient.record_number if patient is not None else "",
        "action": _label("action", event.action),
        "category": _label("category", event.category),
        "object": f"{event.object_type} {event.object_id}".strip(),
        "purpose": _label("purpose", event.purpose),
        "outcome": _label("outcome", event.outcome),
    }


def _record_report_access(
    request: HttpRequest, user: User, query: AuditQueryForm, *, action: Action
) -> None:
    audit.record(
        request=request,
        actor=user,
        patient=query.patient_record,
        action=action,
        category=Category.GENERAL,
        purpose=Purpose.AUDIT,
        outcome=AuditEvent.Outcome.ALLOWED,
    )


@require_http_methods(["GET", "POST"])
def audit_report(request: HttpRequest) -> HttpResponse:
    user = _officer(request, action=Action.VIEW)
    if isinstance(user, HttpResponse):
        return user
    organization_id = user.organization_id
    assert organization_id is not None  # noqa: S101 - may_see_audit_reports checked it
    tz = organization_time_zone(organization_id=organization_id)

    if request.method == "POST":
        search = AuditSearchForm(request.POST, organization_id=organization_id)
        if search.is_valid():
            return redirect(f"{reverse('privacy:audit_report')}?{urlencode(search.query())}")
        # Keep what was typed; show no results until the filters make sense.
        return render(
            request,
            "privacy/audit_report.html",
            {**_nav(user), "search": search, "page": None, "tz": tz},
        )

    query = AuditQueryForm(request.GET, organization_id=organization_id, tz=tz)
    if not query.is_valid():
        search = AuditSearchForm(organization_id=organization_id)
        return render(
            request,
            "privacy/audit_report.html",
            {**_nav(user), "search": search, "query": query, "page": None, "tz": tz},
        )
    _record_report_access(request, user, query, action=Action.VIEW)
    paginator = Paginator(audit_report_events(report=query.audit_filter()), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = {key: value for key in request.GET if key != "page" and (value := request.GET[key])}
    oldest = query.cleaned_data.get("sort") == "oldest"
    first, last = query.period()
    return render(
        request,
        "privacy/audit_report.html",
        {
            **_nav(user),
            "search": AuditSearchForm(
                initial=query.search_initial(), organization_id=organization_id
            ),
            "query": query,
            "page": page,
            "rows": [_row(event, tz) for event in page.object_list],
            "period": (first, last),
            "tz": tz,
            "page_params": urlencode(params),
            "sort_params": urlencode({**params, "sort": "newest" if oldest else "oldest"}),
            "oldest_first": oldest,
            "csv_url": f"{reverse('privacy:audit_report_csv')}?{urlencode(params)}",
        },
    )


_CSV_HEADER = [
    "time",
    "event_id",
    "sequence",
    "actor_id",
    "actor_username",
    "actor_name",
    "actor_role",
    "acting_as",
    "relation",
    "patient_id",
    "patient_name",
    "patient_record_number",
    "action",
    "category",
    "object_type",
    "object_id",
    "purpose",
    "outcome",
    "client_address",
]


def _sequence(event: AuditEvent) -> int | str:
    """The event's place in its chain, or blank while the sealer has not reached it."""
    try:
        return event.seal.sequence
    except AuditSeal.DoesNotExist:
        return ""


def _cell(value: object) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(events: Iterator[AuditEvent], tz: zoneinfo.ZoneInfo) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(_CSV_HEADER)
    for event in events:
        row = _row(event, tz)
        yield writer.writerow(
            [
                _cell(value)
                for value in (
                    row["time"].isoformat(),
                    event.pk,
                    _sequence(event),
                    event.actor_id or "",
                    row["actor_username"],
                    row["actor_name"],
                    event.actor_role,
                    event.acting_as,
                    event.relation,
                    event.patient_id or "",
                    row["patient_name"],
                    row["record_number"],
                    event.action,
                    event.category,
                    event.object_type,
                    event.object_id,
                    event.purpose,
                    event.outcome,
                    event.client_address or "",
                )
            ]
        )


@require_http_methods(["GET"])
def audit_report_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    user = _officer(request, action=Action.EXPORT)
    if isinstance(user, HttpResponse):
        return user
    organization_id = user.organization_id
    assert organization_id is not None  # noqa: S101 - may_see_audit_reports checked it
    tz = organization_time_zone(organization_id=organization_id)
    query = AuditQueryForm(request.GET, organization_id=organization_id, tz=tz)
    if not query.is_valid():
        # A hand-edited link: back to the report, which shows what is wrong.
        return redirect(f"{reverse('privacy:audit_report')}?{request.GET.urlencode()}")
    _record_report_access(request, user, query, action=Action.EXPORT)
    first, last = query.period()
    events = audit_report_events(report=query.audit_filter()).iterator(chunk_size=2000)
    response = StreamingHttpResponse(_csv_lines(events, tz), content_type="text/csv")
    slug = user.organization.slug if user.organization is not None else "audit"
    filename = f"audit-{slug}-{first.isoformat()}-to-{last.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
