"""Safety plans and homework for the story people.

- The improving patient: a full safety plan (two versions: started with her
  therapist, then added to by her), a thought record done on time with feedback,
  a coping-skills list done, and a behavioral-activation plan in progress.
- The deteriorating patient: a safety plan, a diary card gone late with two days
  filled in, and a thought record never started and late.
- The silent patient: two assignments given before she stopped coming, never
  started (with no sign-in and missed groups, the signals of her disengagement flag).
- The adolescent: a safety plan built with their therapist, a coping-skills list
  done, a relapse-prevention plan in progress, and a family assignment ("What helps
  at home") that their parent can read in the family view.

Rows are created directly (like the other demo steps), not through the services,
so the audit trail only holds what people do in the demo.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tether.demo.context import DemoContext
from tether.demo.stories import Story
from tether.homework.library import builtin_library
from tether.homework.models import Assignment, HomeworkAnswers
from tether.homework.services import assignment_category_for
from tether.patients.models import CareTeamMember, Patient
from tether.privacy.gate import record_category_for
from tether.privacy.policy import Category
from tether.safetyplan.models import SafetyPlan, SafetyPlanVersion

PLANS: dict[Story, dict[str, str]] = {
    Story.IMPROVING: {
        "warning_signs": "Staying in bed past noon\nNot answering my sister's texts\nThinking \"what's the point\"",
        "coping_strategies": "Cold water on my face\nWalk around the block\nMy calm playlist",
        "distractions": "Coffee shop on Main Street\nCalling Aunt Rosa to talk about anything",
        "people_to_ask": "My sister Jen 555-0142\nMy friend Marcus 555-0178",
        "professionals": "My therapist at the program (weekdays)\nThe program's crisis line, any time",
        "safe_environment": "Jen keeps my extra medication at her place",
    },
    Story.DETERIORATING: {
        "warning_signs": "Drinking alone\nSkipping group\nNot sleeping",
        "coping_strategies": "Go to the gym\nWrite down what I'm feeling",
        "distractions": "My brother's place",
        "people_to_ask": "My brother Sam 555-0163",
        "professionals": "The program's crisis line",
        "safe_environment": "No alcohol in the house; my brother holds my spare keys",
    },
    Story.ADOLESCENT: {
        "warning_signs": "Staying in my room all weekend\nFeeling like no one gets it",
        "coping_strategies": "Drawing\nShower\nBox breathing",
        "distractions": "Basketball court at the park",
        "people_to_ask": "Mom\nMy cousin Ana",
        "professionals": "School counselor Ms. Patel\nThe program's crisis line",
        "safe_environment": "Mom keeps medicines locked",
    },
}


def _primary(ctx: DemoContext, patient: Patient) -> Any:
    member = (
        CareTeamMember.objects.filter(
            episode__patient=patient,
            role=CareTeamMember.Role.PRIMARY_THERAPIST,
            ended_on__isnull=True,
        )
        .select_related("staff_member__user")
        .first()
    )
    return member.staff_member.user if member else None


def _at(ctx: DemoContext, days_ago: float) -> dt.datetime:
    return ctx.days_ago(days_ago)


def _plan(ctx: DemoContext, story: Story) -> None:
    patient = ctx.patient_for(story)
    clinician = _primary(ctx, patient)
    plan = SafetyPlan.objects.create(organization=ctx.org, patient=patient)
    content = PLANS[story]
    first = {k: v for k, v in content.items() if k in ("warning_signs", "professionals")}
    label = record_category_for(patient, Category.SHARED)  # as at capture
    v1 = SafetyPlanVersion.objects.create(
        organization=ctx.org, plan=plan, number=1, author=clinician, record_category=label, **first
    )
    v2 = SafetyPlanVersion.objects.create(
        organization=ctx.org,
        plan=plan,
        number=2,
        author=ctx.user_for(story),
        record_category=label,
        **content,
    )
    SafetyPlanVersion.objects.filter(pk=v1.pk).update(created_at=_at(ctx, 20))
    SafetyPlanVersion.objects.filter(pk=v2.pk).update(created_at=_at(ctx, 18))


def _assign(
    ctx: DemoContext,
    story: Story,
    key: str,
    *,
    assigned_days_ago: int,
    due_days_ago: int,
    answers: dict[str, Any] | None = None,
    done_days_ago: int | None = None,
    feedback: str = "",
    note: str = "",
    for_family: bool = False,
) -> Assignment:
    patient = ctx.patient_for(story)
    clinician = _primary(ctx, patient)
    definition = builtin_library()[key]
    status = Assignment.Status.NOT_STARTED
    if done_days_ago is not None:
        status = Assignment.Status.DONE
    elif answers:
        status = Assignment.Status.IN_PROGRESS
    assignment = Assignment.objects.create(
        organization=ctx.org,
        patient=patient,
        template_key=key,
        title=definition.title,
        definition=definition.raw,
        assigned_by=clinician,
        starts_on=ctx.today - dt.timedelta(days=assigned_days_ago),
        due_on=ctx.today - dt.timedelta(days=due_days_ago),
        note=note,
        status=status,
        started_at=_at(ctx, assigned_days_ago - 1)
        if status != Assignment.Status.NOT_STARTED
        else None,
        completed_at=_at(ctx, done_days_ago) if done_days_ago is not None else None,
        feedback=feedback,
        feedback_by=clinician if feedback else None,
        feedback_at=_at(ctx, max((done_days_ago or 1) - 1, 0)) if feedback else None,
        for_family=for_family,
        # Labelled as at capture.
        record_category=assignment_category_for(patient, for_family=for_family).value,
    )
    Assignment.objects.filter(pk=assignment.pk).update(assigned_at=_at(ctx, assigned_days_ago))
    if answers:
        HomeworkAnswers.objects.create(
            assignment=assignment,
            data=json.dumps(answers),
            record_category=record_category_for(patient, Category.SELF_REPORT).value,
        )
    return assignment


def run(ctx: DemoContext) -> None:
    for story in PLANS:
        _plan(ctx, story)

    made = [
        _assign(
            ctx,
            Story.IMPROVING,
            "thought_record",
            assigned_days_ago=12,
            due_days_ago=5,
            done_days_ago=7,
            answers={
                "1.situation": "Jen cancelled dinner at the last minute.",
                "2.emotion": "Hurt, lonely",
                "2.intensity_before": 8,
                "3.automatic_thought": "Nobody wants to spend time with me.",
                "4.evidence_for": "She cancelled.",
                "4.evidence_against": "She called the next day and we rebooked. Her kid was sick.",
                "4.balanced_thought": "Plans change; it wasn't about me.",
                "5.intensity_after": 4,
            },
            feedback="You caught the thought and found real evidence against it. Well done.",
        ),
        _assign(
            ctx,
            Story.IMPROVING,
            "coping_skills",
            assigned_days_ago=18,
            due_days_ago=14,
            done_days_ago=15,
            answers={
                "1.skills": "Cold water on my face\nWalk around the block\nCall Jen\nMy calm playlist"
            },
        ),
        _assign(
            ctx,
            Story.IMPROVING,
            "behavioral_activation",
            assigned_days_ago=3,
            due_days_ago=-4,
            answers={
                "1.enjoyable": "Walk in the park Saturday\nBake bread",
                "1.needed": "Call the pharmacy",
            },
            note="Small steps count.",
        ),
        _assign(
            ctx,
            Story.DETERIORATING,
            "dbt_diary_card",
            assigned_days_ago=10,
            due_days_ago=3,
            answers={"1.urge_use": 3, "1.sadness": 3, "2.urge_use": 4, "2.sadness": 4},
        ),
        _assign(ctx, Story.DETERIORATING, "thought_record", assigned_days_ago=9, due_days_ago=2),
        _assign(ctx, Story.SILENT, "coping_skills", assigned_days_ago=13, due_days_ago=8),
        _assign(ctx, Story.SILENT, "thought_record", assigned_days_ago=12, due_days_ago=5),
        _assign(
            ctx,
            Story.ADOLESCENT,
            "coping_skills",
            assigned_days_ago=14,
            due_days_ago=7,
            done_days_ago=8,
            answers={"1.skills": "Drawing\nShooting hoops\nBox breathing\nText Ana"},
        ),
        _assign(
            ctx,
            Story.ADOLESCENT,
            "relapse_prevention",
            assigned_days_ago=4,
            due_days_ago=-3,
            answers={"1.triggers": "Arguments at home\nGroup chat drama"},
        ),
        _assign(
            ctx,
            Story.ADOLESCENT,
            "family_what_helps",
            assigned_days_ago=2,
            due_days_ago=-5,
            note="Do this together before the next family session, Laura and Riley.",
            for_family=True,
        ),
    ]
    ctx.counts["safety plans"] = len(PLANS)
    ctx.counts["homework assignments"] = len(made)
