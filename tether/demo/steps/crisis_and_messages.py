"""Messages and urgent-contact requests, through the real services.

- Maya (improving) asked about her schedule and Dana answered within hours.
- Jesse (substance use) asked a question three days ago that nobody has answered:
  an overdue thread at the top of the inbox.
- Derek (deteriorating) wrote last night in words on the crisis list; the message
  raised an urgent request that the on-call clinician acknowledged and documented.
- Riley (adolescent) asked for urgent contact a few minutes ago: an open request,
  which the running scheduler escalates if nobody acknowledges it.

Each program's escalation contact (after the clinical lead) is the program director.
"""

from __future__ import annotations

import datetime as dt

from tether.crisis.services import (
    urgent_contact_acknowledge,
    urgent_contact_close,
    urgent_contact_raise,
)
from tether.demo.context import DemoContext
from tether.demo.stories import Story
from tether.messaging.services import message_send_by_patient, message_send_by_staff
from tether.organizations.models import Program


def _at(ctx: DemoContext, days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
    day = ctx.today - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ctx.tz)


def run(ctx: DemoContext) -> None:
    Program.objects.filter(organization=ctx.org).update(escalation_contact=ctx.staff["demo.admin"])
    dana = ctx.users["demo.clinician"]
    on_call = ctx.users["demo.oncall"]

    maya, maya_user = ctx.patient_for(Story.IMPROVING), ctx.user_for(Story.IMPROVING)
    asked = message_send_by_patient(
        patient=maya,
        author=maya_user,
        body="Hi Dana, can I switch to the evening group next week? My new job starts Monday.",
        now=_at(ctx, 3, 10, 12),
    )
    message_send_by_staff(
        thread=asked.message.thread,
        author=dana,
        body="Congratulations on the job! Yes, the evening group has room. I moved you from "
        "next Monday; bring your questions to Thursday's session.",
        now=_at(ctx, 3, 13, 40),
    )

    jesse, jesse_user = ctx.patient_for(Story.SUBSTANCE_USE), ctx.user_for(Story.SUBSTANCE_USE)
    message_send_by_patient(
        patient=jesse,
        author=jesse_user,
        body="My court date moved to the 14th. Can someone write a letter confirming I attend "
        "the program?",
        now=_at(ctx, 3, 11, 30),
    )

    derek, derek_user = ctx.patient_for(Story.DETERIORATING), ctx.user_for(Story.DETERIORATING)
    sent = message_send_by_patient(
        patient=derek,
        author=derek_user,
        body="I haven't been coming because I can't see the point. Honestly some nights I "
        "don't want to be alive.",
        now=_at(ctx, 1, 22, 40),
    )
    urgent = sent.message.urgent_request
    if urgent is not None:
        urgent_contact_acknowledge(request=urgent, user=on_call, now=_at(ctx, 1, 22, 49))
        urgent_contact_close(
            request=urgent,
            user=on_call,
            contact_method="phone",
            outcome="same_day_session",
            safety_plan_reviewed=True,
            next_step="Reviewed his safety plan by phone; he agreed to keep his sister with him "
            "tonight. Same-day session with Dana booked for 9 AM.",
            now=_at(ctx, 1, 23, 20),
        )
    message_send_by_staff(
        thread=sent.message.thread,
        author=on_call,
        body="Derek, thank you for telling us. I'm glad we talked tonight. Dana will see you "
        "at 9 tomorrow.",
        now=_at(ctx, 1, 23, 25),
    )

    riley = ctx.patient_for(Story.ADOLESCENT)
    urgent_contact_raise(
        patient=riley,
        source="patient_button",
        now=ctx.now - dt.timedelta(minutes=4),
        actor=ctx.user_for(Story.ADOLESCENT),
    )
    ctx.counts["message threads"] = 3
    ctx.counts["urgent-contact requests"] = 2
