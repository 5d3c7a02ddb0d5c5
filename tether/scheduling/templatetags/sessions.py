"""``{{ appointment|session_title_where_shared }}``: an appointment's name where Part 2
information must not show (the shared-device quick view, family views).

Which program a person is treated in is itself sensitive, and the name of a
substance-use (42 CFR Part 2) program says what it treats: "Recovery IOP morning group".
There a session is named by its kind only ("Group session"); other programs' sessions
keep their title. The caller must have loaded ``appointment.program``.
"""

from __future__ import annotations

from django import template

from tether.scheduling.models import Appointment

register = template.Library()


@register.filter
def session_title_where_shared(appointment: Appointment) -> str:
    if appointment.program.treats_substance_use:
        return str(appointment.get_kind_display())
    return appointment.title
