"""Plain-language lines about a patient's progress: encouraging, never alarming."""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _

from tether.checkins.selectors import Series


def patient_line(series: Series) -> str:
    first, last = series.baseline, series.latest
    if first is None or last is None:
        return _("Nothing here yet. Your answers will show here once you send them.")
    name = series.title
    if series.item is not None:
        recent = [p.value for p in series.points[-7:] if p.value is not None]
        average = round(sum(recent) / len(recent), 1) if recent else 0
        return _(
            "Over your last %(count)s check-ins, your answer to “%(name)s” averaged "
            "%(average)s out of %(max)s."
        ) % {
            "count": len(recent),
            "name": name,
            "average": formats.localize(average),  # "4,4" in Spanish
            "max": series.scale_max,
        }
    if first is last:
        return _(
            "This is your first %(name)s. Each one you fill in helps you and your care team "
            "see how things are going."
        ) % {"name": name}
    change = last.change
    if change is not None and change.reliable_improvement:
        return _(
            "Your %(name)s went from %(first)s to %(last)s since you started — that is a real "
            "improvement."
        ) % {"name": name, "first": first.value, "last": last.value}
    if change is not None and change.reliable_deterioration:
        return _(
            "Your scores have been higher lately. Your care team can see this too, and it's "
            "worth talking about at your next session."
        )
    return _(
        "Your %(name)s went from %(first)s to %(last)s since you started. Keep going: every "
        "one you fill in helps your care team support you."
    ) % {"name": name, "first": first.value, "last": last.value}
