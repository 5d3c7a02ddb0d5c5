"""Who has looked at my record: the patient's own view of their audit trail.

Plain words, grouped by day, in the time zone of the patient's program. Staff are
named by role and by whether they are on the patient's care team, never by name
(docs/PRIVACY.md, "Who viewed my record", gives the reasons).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from tether.privacy.gate import access_own_record
from tether.privacy.plain_words import describe
from tether.privacy.policy import Action, Category
from tether.privacy.selectors import patient_time_zone, record_views

PAGE_SIZE = 50  # lines (one per person and kind of access per day)


@dataclass
class Day:
    label: str
    lines: list[str] = field(default_factory=list)


def _clock(value: dt.datetime) -> str:
    return dateformat.time_format(value, "g:i A")


def _line(row: dict[str, Any], tz: dt.tzinfo) -> str:
    sentence = describe(
        role=str(row["actor_role"]),
        relation=str(row["relation"]),
        acting_as=str(row["acting_as"]),
        action=str(row["action"]),
        category=str(row["category"]),
    )
    times = int(row["times"])
    last = timezone.localtime(row["last"], tz)
    if times == 1:
        return _("%(sentence)s at %(time)s.") % {"sentence": sentence, "time": _clock(last)}
    first = timezone.localtime(row["first"], tz)
    if _clock(first) == _clock(last):
        return ngettext(
            "%(sentence)s %(count)d time, at %(time)s.",
            "%(sentence)s %(count)d times, at %(time)s.",
            times,
        ) % {"sentence": sentence, "count": times, "time": _clock(last)}
    return ngettext(
        "%(sentence)s %(count)d time, between %(first)s and %(last)s.",
        "%(sentence)s %(count)d times, between %(first)s and %(last)s.",
        times,
    ) % {"sentence": sentence, "count": times, "first": _clock(first), "last": _clock(last)}


def _day_label(day: dt.date, today: dt.date) -> str:
    if day == today:
        return _("Today, %(date)s") % {"date": dateformat.format(day, "l, F j")}
    if day == today - dt.timedelta(days=1):
        return _("Yesterday, %(date)s") % {"date": dateformat.format(day, "l, F j")}
    return dateformat.format(day, "l, F j" if day.year == today.year else "l, F j, Y")


@login_required
@require_GET
def who_viewed(request: HttpRequest) -> HttpResponse:
    # Patients only: family members and staff have no "my record" here (staff have
    # the audit report), and the page never takes a patient id.
    patient = access_own_record(request, category=Category.GENERAL, action=Action.VIEW)
    tz = patient_time_zone(patient=patient)
    page = Paginator(record_views(patient=patient, tz=tz), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate(timezone=tz)
    days: list[Day] = []
    for row in page.object_list:
        label = _day_label(row["day"], today)
        if not days or days[-1].label != label:
            days.append(Day(label))
        days[-1].lines.append(_line(row, tz))
    return render(
        request,
        "privacy/who_viewed.html",
        {"nav": "who_viewed", "patient": patient, "page": page, "days": days},
    )
