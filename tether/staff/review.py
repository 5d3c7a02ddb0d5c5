"""The pre-session review: what happened since the last attended session, readable
in a minute, in a fixed number of queries. ``review_data`` returns plain data (a
dict of ids, dates, numbers and codes) so the FHIR export can reuse it;
``note_text`` turns it into the plain-text block for the session note."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tether.checkins.models import Answer, Response
from tether.crisis.selectors import crisis_pathway_use_count
from tether.flags.models import Flag
from tether.flags.selectors import visible_flags
from tether.homework.selectors import WINDOW_DAYS, window_completion
from tether.messaging.models import Message
from tether.patients.models import Episode, Patient
from tether.privacy.policy import Category
from tether.scheduling.models import Attendance

# Reliable change (clinical reference: IAPT conventions).
RELIABLE_CHANGE = {"phq9": 6, "gad7": 4}
MEASURE_NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7"}
# Opening the review is recorded as an audit event of its own (this object type), apart
# from the gate's read of the self-report record that every page makes, so that the
# reports can count the sessions a clinician prepared for (tether/reports: the
# pre-session review rate). Its purpose of use stays treatment (v3-ActReason TREAT).
PRE_SESSION_REVIEW = "staff.pre_session_review"


def record_review_opened(request: HttpRequest, *, patient: Patient) -> None:
    """Record that the signed-in clinician opened this patient's pre-session review."""
    from tether.privacy import audit
    from tether.privacy.gate import decide
    from tether.privacy.models import Purpose
    from tether.privacy.policy import Action, Relation

    user = request.user
    decision = decide(user, patient, category=Category.SELF_REPORT, action=Action.VIEW)  # type: ignore[arg-type]
    if not decision.allowed:
        return
    emergency = decision.relation == Relation.BREAK_GLASS
    audit.append_many(
        [
            audit.event_for(
                request=request,
                actor=user,  # type: ignore[arg-type]
                patient=patient,
                action=Action.VIEW,
                category=Category.SELF_REPORT,
                purpose=Purpose.EMERGENCY if emergency else Purpose.TREATMENT,
                object_type=PRE_SESSION_REVIEW,
                relation=decision.relation,
            )
        ]
    )


def review_data(
    *, patient: Patient, now: dt.datetime | None = None, include_part2: bool = False
) -> dict[str, Any]:
    """Since the last attended session. ``include_part2``: the viewer may see the
    patient's Part 2 record (else Part 2 flags — raised from a Part 2 program's data,
    or revealing substance use — are left out)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    # Check-ins carry their record category from capture (tether.checkins): a Part 2
    # program's are Part 2 records, left out unless the viewer may see Part 2.
    categories = [Category.SELF_REPORT.value] + ([Category.PART2.value] if include_part2 else [])
    episode = (
        Episode.objects.filter(patient=patient, status=Episode.Status.ACTIVE)
        .select_related("program")
        .first()
    )
    last_attended = (
        Attendance.objects.filter(
            patient=patient,
            status__in=Attendance.ATTENDED_STATUSES,
            appointment__starts_at__lt=now,
        )
        .order_by("-appointment__starts_at")
        .values_list("appointment__starts_at", flat=True)
        .first()
    )
    if last_attended is not None:
        since = last_attended
    elif episode is not None:
        since = timezone.make_aware(dt.datetime.combine(episode.admitted_on, dt.time.min))
    else:
        since = now - dt.timedelta(days=7)

    scored = list(
        Response.objects.filter(
            patient=patient,
            record_category__in=categories,
            instrument__code__in=list(RELIABLE_CHANGE),
            status=Response.Status.COMPLETE,
            total__isnull=False,
            submitted_at__lte=now,
        )
        .order_by("submitted_at", "pk")
        .values_list("instrument__code", "submitted_at", "total")
    )  # total is never None here (filtered above)
    scores = []
    for code, threshold in RELIABLE_CHANGE.items():
        series = [
            (when, int(total or 0)) for c, when, total in scored if c == code and when is not None
        ]
        if not series:
            continue
        before = [total for when, total in series if when <= since]
        after = [(when, total) for when, total in series if when > since]
        latest_at, latest = series[-1]
        previous = before[-1] if before else (series[-2][1] if len(series) > 1 else None)
        baseline = series[0][1]
        change = latest - previous if previous is not None else None
        from_baseline = latest - baseline
        scores.append(
            {
                "code": code,
                "name": MEASURE_NAMES[code],
                "latest": latest,
                "latest_at": latest_at,
                "previous": previous,
                "change": change,
                "baseline": baseline,
                "from_baseline": from_baseline,
                "reliable_change": (
                    "deterioration"
                    if from_baseline >= threshold
                    else "improvement"
                    if from_baseline <= -threshold
                    else ""
                ),
                "new_since": len(after),
            }
        )

    item9 = list(
        Answer.objects.filter(
            response__patient=patient,
            response__record_category__in=categories,
            response__instrument__code="phq9",
            response__status=Response.Status.COMPLETE,
            response__submitted_at__gt=since,
            item_code="9",
            value__gt=0,
        )
        .order_by("answered_at")
        .values_list("answered_at", "value")
    )
    mood = Answer.objects.filter(
        response__patient=patient,
        response__record_category__in=categories,
        response__instrument__code="daily",
        response__status=Response.Status.COMPLETE,
        item_code="mood",
        value__isnull=False,
        # Only the two windows averaged below: never the whole daily history.
        response__submitted_at__gt=since - dt.timedelta(days=7),
    ).aggregate(
        recent=Avg("value", filter=Q(response__submitted_at__gt=since)),
        recent_n=Count("pk", filter=Q(response__submitted_at__gt=since)),
        before=Avg(
            "value",
            filter=Q(
                response__submitted_at__lte=since,
                response__submitted_at__gt=since - dt.timedelta(days=7),
            ),
        ),
    )
    # The one homework window (homework.selectors): the same figure as the board and the
    # homework page, not a second definition tied to the last session.
    homework_done = window_completion(patient=patient, today=today)
    homework = {
        "due": homework_done.counted,
        "done": homework_done.done,
        "late": homework_done.late,
    }
    messages_sent = Message.objects.filter(
        thread__patient=patient,
        author_kind=Message.AuthorKind.PATIENT,
        created_at__gt=since,
    ).count()
    attendance = dict(
        Attendance.objects.filter(
            patient=patient,
            appointment__starts_at__gt=since,
            appointment__starts_at__lt=now,
        )
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    open_flags = visible_flags(
        Flag.objects.filter(patient=patient, status=Flag.Status.OPEN), include_part2=include_part2
    )
    flags = list(open_flags.select_related("rule").order_by("-severity", "raised_at"))
    return {
        "patient_id": patient.pk,
        "episode_id": episode.pk if episode else None,
        "since": since,
        "since_session": last_attended is not None,
        "generated_at": now,
        "scores": scores,
        "item9": [{"at": at, "value": value} for at, value in item9],
        "mood": {
            "recent_mean": round(mood["recent"], 1) if mood["recent"] is not None else None,
            "recent_count": mood["recent_n"],
            "before_mean": round(mood["before"], 1) if mood["before"] is not None else None,
        },
        "homework": {
            "due": homework["due"],
            "done": homework["done"],
            "late": homework["late"],
            "window_days": WINDOW_DAYS,
        },
        "messages_sent": messages_sent,
        "crisis_pathway_uses": crisis_pathway_use_count(patient_id=patient.pk, since=since),
        "attendance": {
            "attended": attendance.get(Attendance.Status.ATTENDED, 0)
            + attendance.get(Attendance.Status.LATE, 0)
            + attendance.get(Attendance.Status.LEFT_EARLY, 0),
            "absent": attendance.get(Attendance.Status.ABSENT, 0),
            "excused": attendance.get(Attendance.Status.EXCUSED, 0),
        },
        "flags": [
            {
                "id": f.pk,
                "kind": f.kind,
                "code": f.reason,
                "severity": f.severity,
                "raised_at": f.raised_at,
                "why": f.why,
                "evidence": f.evidence,
            }
            for f in flags
        ],
    }


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d")


def note_text(data: dict[str, Any]) -> str:
    """Plain text for the session note (no identifiers: the note is in the patient's chart)."""
    lines = [
        _("Pre-session review since %(since)s (%(what)s).")
        % {
            "since": _when(data["since"]),
            "what": _("last attended session") if data["since_session"] else _("admission"),
        }
    ]
    for s in data["scores"]:
        line = _("%(name)s: %(latest)s") % {"name": s["name"], "latest": s["latest"]}
        if s["change"] is not None:
            line += _(" (change %(change)+d since last session)") % {"change": s["change"]}
        line += _("; %(delta)+d from baseline %(baseline)s") % {
            "delta": s["from_baseline"],
            "baseline": s["baseline"],
        }
        if s["reliable_change"] == "deterioration":
            line += _(", reliable deterioration")
        elif s["reliable_change"] == "improvement":
            line += _(", reliable improvement")
        lines.append(line + ".")
    if data["item9"]:
        lines.append(
            _("PHQ-9 item 9 above 0 on: %(days)s.")
            % {"days": ", ".join(f"{_when(i['at'])} ({i['value']})" for i in data["item9"])}
        )
    mood = data["mood"]
    if mood["recent_mean"] is not None:
        lines.append(
            _("Daily mood: mean %(mean)s over %(n)s check-ins.")
            % {"mean": mood["recent_mean"], "n": mood["recent_count"]}
        )
    hw = data["homework"]
    lines.append(
        _("Homework (last %(days)s days): %(done)s of %(due)s done, %(late)s late.")
        % {"done": hw["done"], "due": hw["due"], "late": hw["late"], "days": hw["window_days"]}
    )
    lines.append(_("Messages sent by the patient: %(n)s.") % {"n": data["messages_sent"]})
    lines.append(_("Crisis pathway used: %(n)s time(s).") % {"n": data["crisis_pathway_uses"]})
    att = data["attendance"]
    lines.append(
        _("Attendance: %(a)s attended, %(b)s missed, %(c)s excused.")
        % {"a": att["attended"], "b": att["absent"], "c": att["excused"]}
    )
    if data["flags"]:
        lines.append(_("Open flags:"))
        lines.extend(f"- {f['why']}" for f in data["flags"])
    else:
        lines.append(_("No open flags."))
    return "\n".join(lines)
