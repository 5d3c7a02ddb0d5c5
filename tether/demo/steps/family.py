"""Family access for the adolescent's parent, with content behind each scope.

- Riley's program (with Riley's assent) now also lets Laura, Riley's mother, see progress
  updates for families and family-therapy assignments, and message the care team.
- Dana wrote Laura a short progress update last week (general progress, no clinical
  detail); the family assignment "What helps at home" is in the homework step.
- Laura asked about the family session in the family thread and Dana answered. Riley's
  own thread with Dana stays private to Riley.
- Laura wrote her own part of the first step of "What helps at home" (kept apart from
  Riley's answers; Dana sees it on the assignment's page, labelled as the family's).

The update and Laura's part are created directly (the audit trail only holds what people do in the demo);
the messages go through the real services, like the other message step.
"""

from __future__ import annotations

import datetime as dt
import json

from tether.demo.context import DemoContext
from tether.demo.stories import Story
from tether.family.models import FamilyAnswers, FamilyUpdate
from tether.homework.models import Assignment
from tether.messaging.services import message_send_by_proxy, message_send_by_staff
from tether.patients.models import Proxy
from tether.privacy.gate import family_category_for


def _at(ctx: DemoContext, days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
    day = ctx.today - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ctx.tz)


def run(ctx: DemoContext) -> None:
    riley = ctx.patient_for(Story.ADOLESCENT)
    laura = ctx.user_for(Story.PARENT)
    dana = ctx.users["demo.clinician"]
    Proxy.objects.filter(patient=riley, user=laura).update(
        scope_family_updates=True, scope_family_assignments=True, scope_messaging=True
    )
    FamilyUpdate.objects.create(
        organization=ctx.org,
        patient=riley,
        author=dana,
        body="Riley came to every group session this week and joined in more than before. "
        "The new after-school routine seems to help; keep asking how the day went without "
        "pushing for details. We will talk about it at the next family session.",
        created_at=_at(ctx, 6, 16, 30),
        record_category=family_category_for(riley).value,
    )
    asked = message_send_by_proxy(
        patient=riley,
        author=laura,
        body="Hi Dana, I have a work meeting on Thursday. Could the family session start "
        "at 5 instead of 4:30?",
        now=_at(ctx, 2, 9, 15),
    )
    message_send_by_staff(
        thread=asked.message.thread,
        author=dana,
        body="Hi Laura, yes, 5 PM on Thursday works. I have moved it. See you both then.",
        now=_at(ctx, 2, 11, 5),
    )
    family_assignment = Assignment.objects.get(
        patient=riley, for_family=True, template_key="family_what_helps"
    )
    laura_part = FamilyAnswers.objects.create(
        organization=ctx.org,
        assignment=family_assignment,
        author=laura,
        data=json.dumps(
            {
                "1.helps_me": "Riley telling me about the day without me asking\n"
                "Sunday breakfast together",
                "1.helps_family": "Giving Riley an hour to unwind after school before homework",
            }
        ),
        created_at=_at(ctx, 1, 20, 10),
        record_category=family_category_for(riley).value,
    )
    FamilyAnswers.objects.filter(pk=laura_part.pk).update(updated_at=_at(ctx, 1, 20, 10))
    ctx.counts["family updates"] = 1
    ctx.counts["family members' parts of family assignments"] = 1
    ctx.counts["family message threads"] = 1
