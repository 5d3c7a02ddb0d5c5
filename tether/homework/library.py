"""Homework templates as data, and the built-in library.

A template is a plain dict (the same shape a program's own template has in the
database or in a JSON file; see docs/HOWTO-add-a-homework-template.md)::

    {
      "key": "thought_record",            # a slug, unique per program
      "title": "Thought record",
      "summary": "one line for lists",
      "instructions": "what to do, in plain words",
      "per_day": 7,                        # optional: repeat the steps for N days
      "steps": [
        {"title": "...", "help": "...", "fields": [
          {"key": "situation", "kind": "long_text", "label": "...", "help": "..."},
          {"key": "mood", "kind": "scale", "label": "...", "min": 0, "max": 10,
           "min_label": "...", "max_label": "..."},
          {"key": "skills", "kind": "choices", "label": "...", "choices": ["...", "..."]},
          {"key": "list", "kind": "list", "label": "...", "help": "one per line"}
        ]}
      ]
    }

``parse_definition`` checks that shape and returns typed objects. Answers are
stored under ``"<step number>.<field key>"`` (steps counted from 1 after the
``per_day`` expansion).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

FIELD_KINDS = ("text", "long_text", "scale", "choices", "list")
TEXT_LIMITS = {"text": 200, "long_text": 2000, "list": 2000}
MAX_STEPS = 40
MAX_FIELDS_PER_STEP = 12
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class TemplateError(ValueError):
    """The template data does not have the expected shape."""


@dataclass(frozen=True)
class FieldDef:
    key: str
    kind: str
    label: str
    help: str = ""
    min: int = 0
    max: int = 10
    min_label: str = ""
    max_label: str = ""
    choices: tuple[str, ...] = ()

    @property
    def limit(self) -> int:
        return TEXT_LIMITS.get(self.kind, 0)


@dataclass(frozen=True)
class StepDef:
    title: str
    help: str
    fields: tuple[FieldDef, ...]


@dataclass(frozen=True)
class Definition:
    key: str
    title: str
    summary: str
    instructions: str
    steps: tuple[StepDef, ...]
    per_day: int = 0
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def expanded_steps(self, start: date) -> list[StepDef]:
        """The steps a patient walks through; ``per_day`` repeats them for each day."""
        if not self.per_day:
            return list(self.steps)
        out: list[StepDef] = []
        for offset in range(self.per_day):
            day = date_format(start + timedelta(days=offset), "l, F j")
            for step in self.steps:
                out.append(StepDef(f"{day}: {step.title}", step.help, step.fields))
        return out


def _text(data: dict[str, Any], name: str, *, required: bool = True, limit: int = 2000) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise TemplateError(f"'{name}' must be text (1-{limit} characters)")
    return value


def _field(data: Any) -> FieldDef:
    if not isinstance(data, dict):
        raise TemplateError("each field must be an object")
    key = data.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise TemplateError(f"field key {key!r} must be a lower-case slug")
    kind = data.get("kind")
    if kind not in FIELD_KINDS:
        raise TemplateError(f"field {key}: kind must be one of {', '.join(FIELD_KINDS)}")
    extra: dict[str, Any] = {}
    if kind == "scale":
        lo, hi = data.get("min", 0), data.get("max", 10)
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo < hi <= 100):
            raise TemplateError(f"field {key}: scale needs whole numbers 0 <= min < max <= 100")
        extra = {
            "min": lo,
            "max": hi,
            "min_label": _text(data, "min_label", required=False, limit=100),
            "max_label": _text(data, "max_label", required=False, limit=100),
        }
    if kind == "choices":
        choices = data.get("choices")
        if (
            not isinstance(choices, list)
            or not choices
            or len(choices) > 40
            or not all(isinstance(c, str) and 0 < len(c) <= 200 for c in choices)
        ):
            raise TemplateError(f"field {key}: choices must be a list of 1-40 short texts")
        extra = {"choices": tuple(choices)}
    return FieldDef(
        key=key,
        kind=kind,
        label=_text(data, "label", limit=300),
        help=_text(data, "help", required=False),
        **extra,
    )


def parse_definition(data: Any) -> Definition:
    if not isinstance(data, dict):
        raise TemplateError("a template must be an object")
    key = data.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise TemplateError("'key' must be a lower-case slug")
    steps_data = data.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        raise TemplateError("'steps' must be a non-empty list")
    steps = []
    for step in steps_data:
        if not isinstance(step, dict):
            raise TemplateError("each step must be an object")
        fields_data = step.get("fields")
        if not isinstance(fields_data, list) or not 0 < len(fields_data) <= MAX_FIELDS_PER_STEP:
            raise TemplateError(f"each step needs 1-{MAX_FIELDS_PER_STEP} fields")
        fields = tuple(_field(f) for f in fields_data)
        if len({f.key for f in fields}) != len(fields):
            raise TemplateError("field keys must be unique within a step")
        steps.append(
            StepDef(_text(step, "title", limit=300), _text(step, "help", required=False), fields)
        )
    per_day = data.get("per_day", 0)
    if not isinstance(per_day, int) or not 0 <= per_day <= 14:
        raise TemplateError("'per_day' must be a whole number from 0 to 14")
    if len(steps) * max(per_day, 1) > MAX_STEPS:
        raise TemplateError(f"a template may have at most {MAX_STEPS} steps in all")
    return Definition(
        key=key,
        title=_text(data, "title", limit=200),
        summary=_text(data, "summary", required=False, limit=300),
        instructions=_text(data, "instructions", required=False),
        steps=tuple(steps),
        per_day=per_day,
        raw=data,
    )


def _s(text: Any) -> str:
    return str(text)


# --- The built-in library ----------------------------------------------------------
# Written in plain words for patients. Strings are marked for translation; the
# definition snapshot stored on an assignment holds the text in the language of
# the clinician who assigned it.


def builtin_definitions() -> list[dict[str, Any]]:
    scale_0_5 = {"min": 0, "max": 5, "min_label": _s(_("none")), "max_label": _s(_("very strong"))}
    return [
        {
            "key": "thought_record",
            "title": _s(_("Thought record")),
            "summary": _s(_("Look at a hard moment and the thoughts that came with it (CBT).")),
            "instructions": _s(
                _(
                    "Think of one moment this week when your mood changed. Write what "
                    "happened, what went through your mind, and another way to see it. "
                    "Short answers are fine."
                )
            ),
            "steps": [
                {
                    "title": _s(_("The situation")),
                    "help": _s(_("Where were you, who was there, what was happening?")),
                    "fields": [
                        {"key": "situation", "kind": "long_text", "label": _s(_("What happened?"))}
                    ],
                },
                {
                    "title": _s(_("Your feelings")),
                    "help": _s(_("Name the feeling, then how strong it was.")),
                    "fields": [
                        {"key": "emotion", "kind": "text", "label": _s(_("What did you feel?"))},
                        {
                            "key": "intensity_before",
                            "kind": "scale",
                            "label": _s(_("How strong was it?")),
                            "min": 0,
                            "max": 10,
                            "min_label": _s(_("not at all")),
                            "max_label": _s(_("the strongest")),
                        },
                    ],
                },
                {
                    "title": _s(_("The thought")),
                    "help": _s(_("What went through your mind just then?")),
                    "fields": [
                        {
                            "key": "automatic_thought",
                            "kind": "long_text",
                            "label": _s(_("What were you thinking?")),
                        }
                    ],
                },
                {
                    "title": _s(_("Looking at it again")),
                    "help": _s(_("What would you tell a friend who had this thought?")),
                    "fields": [
                        {
                            "key": "evidence_for",
                            "kind": "long_text",
                            "label": _s(_("What makes the thought seem true?")),
                        },
                        {
                            "key": "evidence_against",
                            "kind": "long_text",
                            "label": _s(_("What does not fit with the thought?")),
                        },
                        {
                            "key": "balanced_thought",
                            "kind": "long_text",
                            "label": _s(_("Another way to see it")),
                        },
                    ],
                },
                {
                    "title": _s(_("Now")),
                    "help": _s(_("How strong is the feeling now?")),
                    "fields": [
                        {
                            "key": "intensity_after",
                            "kind": "scale",
                            "label": _s(_("How strong is the feeling now?")),
                            "min": 0,
                            "max": 10,
                            "min_label": _s(_("not at all")),
                            "max_label": _s(_("the strongest")),
                        }
                    ],
                },
            ],
        },
        {
            "key": "behavioral_activation",
            "title": _s(_("Activity plan")),
            "summary": _s(
                _("Plan a few activities and notice how they feel (behavioral activation).")
            ),
            "instructions": _s(
                _(
                    "Choose small things to do this week: something you enjoy and "
                    "something that needs doing. Afterwards, note how it went."
                )
            ),
            "steps": [
                {
                    "title": _s(_("Plan")),
                    "help": _s(
                        _("Small and specific works best: “walk to the corner shop on Tuesday”.")
                    ),
                    "fields": [
                        {
                            "key": "enjoyable",
                            "kind": "list",
                            "label": _s(_("Things I enjoy that I will do")),
                            "help": _s(_("One per line.")),
                        },
                        {
                            "key": "needed",
                            "kind": "list",
                            "label": _s(_("Things that need doing that I will do")),
                            "help": _s(_("One per line.")),
                        },
                    ],
                },
                {
                    "title": _s(_("How it went")),
                    "help": _s(_("Fill this in after you have done some of them.")),
                    "fields": [
                        {"key": "done", "kind": "long_text", "label": _s(_("What did you do?"))},
                        {
                            "key": "mood_after",
                            "kind": "scale",
                            "label": _s(_("How was your mood afterwards?")),
                            "min": 0,
                            "max": 10,
                            "min_label": _s(_("very low")),
                            "max_label": _s(_("very good")),
                        },
                        {
                            "key": "noticed",
                            "kind": "long_text",
                            "label": _s(_("What did you notice?")),
                        },
                    ],
                },
            ],
        },
        {
            "key": "dbt_diary_card",
            "title": _s(_("Diary card")),
            "summary": _s(_("Each day: urges, feelings and the skills you used (DBT).")),
            "instructions": _s(
                _(
                    "Fill in one page each day, ideally in the evening. Rate urges and "
                    "feelings from 0 (none) to 5 (very strong) and tick the skills you used."
                )
            ),
            "per_day": 7,
            "steps": [
                {
                    "title": _s(_("Urges, feelings and skills")),
                    "help": _s(_("0 means none, 5 means very strong.")),
                    "fields": [
                        {
                            "key": "urge_self_harm",
                            "kind": "scale",
                            "label": _s(_("Urge to hurt myself")),
                            **scale_0_5,
                        },
                        {
                            "key": "urge_use",
                            "kind": "scale",
                            "label": _s(_("Urge to drink or use")),
                            **scale_0_5,
                        },
                        {"key": "sadness", "kind": "scale", "label": _s(_("Sadness")), **scale_0_5},
                        {"key": "anger", "kind": "scale", "label": _s(_("Anger")), **scale_0_5},
                        {
                            "key": "fear",
                            "kind": "scale",
                            "label": _s(_("Fear or worry")),
                            **scale_0_5,
                        },
                        {"key": "shame", "kind": "scale", "label": _s(_("Shame")), **scale_0_5},
                        {"key": "joy", "kind": "scale", "label": _s(_("Joy")), **scale_0_5},
                        {
                            "key": "skills",
                            "kind": "choices",
                            "label": _s(_("Skills I used today")),
                            "choices": [
                                _s(_("Mindfulness")),
                                _s(_("Distress tolerance (for example TIPP, self-soothe)")),
                                _s(_("Emotion regulation (for example opposite action)")),
                                _s(_("Interpersonal effectiveness (for example DEAR MAN)")),
                            ],
                        },
                        {
                            "key": "notes",
                            "kind": "text",
                            "label": _s(_("Anything else about today?")),
                        },
                    ],
                }
            ],
        },
        {
            "key": "relapse_prevention",
            "title": _s(_("Relapse-prevention plan")),
            "summary": _s(_("Your triggers, warning signs, what you will do and who can help.")),
            "instructions": _s(
                _(
                    "Write your own plan for staying well. You can change it later with your care team."
                )
            ),
            "steps": [
                {
                    "title": _s(_("Triggers")),
                    "help": _s(_("People, places, feelings or times that make things harder.")),
                    "fields": [
                        {
                            "key": "triggers",
                            "kind": "list",
                            "label": _s(_("My triggers")),
                            "help": _s(_("One per line.")),
                        }
                    ],
                },
                {
                    "title": _s(_("Warning signs")),
                    "help": _s(_("Changes you or others notice when things start to slip.")),
                    "fields": [
                        {
                            "key": "warning_signs",
                            "kind": "list",
                            "label": _s(_("My warning signs")),
                            "help": _s(_("One per line.")),
                        }
                    ],
                },
                {
                    "title": _s(_("What I will do")),
                    "help": _s(_("What helps when a trigger or warning sign shows up?")),
                    "fields": [
                        {
                            "key": "coping",
                            "kind": "list",
                            "label": _s(_("What I will do")),
                            "help": _s(_("One per line.")),
                        }
                    ],
                },
                {
                    "title": _s(_("People who support me")),
                    "help": _s(_("Who you can call, and their number if you like.")),
                    "fields": [
                        {
                            "key": "supports",
                            "kind": "list",
                            "label": _s(_("My support people")),
                            "help": _s(_("One per line.")),
                        }
                    ],
                },
            ],
        },
        {
            "key": "coping_skills",
            "title": _s(_("My coping skills")),
            "summary": _s(_("A list of things that help you. It is kept with your safety plan.")),
            "instructions": _s(
                _(
                    "List the things that help you get through a hard moment. This list "
                    "is shown with your safety plan, so you can find it quickly."
                )
            ),
            "steps": [
                {
                    "title": _s(_("Things that help me")),
                    "help": _s(
                        _(
                            "For example: cold water on my face, a walk, my playlist, calling my sister."
                        )
                    ),
                    "fields": [
                        {
                            "key": "skills",
                            "kind": "list",
                            "label": _s(_("My coping skills")),
                            "help": _s(_("One per line.")),
                        }
                    ],
                }
            ],
        },
        {
            "key": "reflection",
            "title": _s(_("Reflection")),
            "summary": _s(
                _("Write freely about something your care team asked you to think about.")
            ),
            "instructions": _s(
                _("There is no right or wrong answer. Write as much or as little as you like.")
            ),
            "steps": [
                {
                    "title": _s(_("Your reflection")),
                    "help": "",
                    "fields": [
                        {"key": "text", "kind": "long_text", "label": _s(_("Your thoughts"))}
                    ],
                }
            ],
        },
        # A family-therapy exercise (assign it "for the family"): the family does it
        # together at home and the patient writes down what they agreed.
        {
            "key": "family_what_helps",
            "title": _s(_("What helps at home (family)")),
            "summary": _s(
                _("Do it together: what helps each of you, and a calm way to talk each week.")
            ),
            "instructions": _s(
                _(
                    "Sit down together for about twenty minutes, somewhere quiet, phones away. "
                    "Take turns: one person talks, the others listen without interrupting. "
                    "There are no wrong answers. Write down what you agree on; you will "
                    "talk about it at the next family session."
                )
            ),
            "steps": [
                {
                    "title": _s(_("What already helps")),
                    "help": _s(
                        _("Start with something good: small, everyday things count the most.")
                    ),
                    "fields": [
                        {
                            "key": "helps_me",
                            "kind": "list",
                            "label": _s(_("Things my family does that help me")),
                            "help": _s(_("One per line.")),
                        },
                        {
                            "key": "helps_family",
                            "kind": "list",
                            "label": _s(_("Things I do that my family says help them")),
                            "help": _s(_("One per line.")),
                        },
                    ],
                },
                {
                    "title": _s(_("A weekly check-in")),
                    "help": _s(_("Ten minutes a week, at a time that suits everyone.")),
                    "fields": [
                        {
                            "key": "when",
                            "kind": "text",
                            "label": _s(_("When and where we will meet")),
                        },
                        {
                            "key": "ground_rules",
                            "kind": "choices",
                            "label": _s(_("Our ground rules")),
                            "choices": [
                                _s(_("One person talks at a time")),
                                _s(_("Phones away")),
                                _s(_("Start with something that went well")),
                                _s(_("Anyone can ask for a break and we come back later")),
                                _s(_("No bringing up old arguments")),
                            ],
                        },
                    ],
                },
                {
                    "title": _s(_("When things get tense")),
                    "help": _s(
                        _(
                            "Agree on a signal that means “I need a break”, and "
                            "what each of you will do then."
                        )
                    ),
                    "fields": [
                        {
                            "key": "signal",
                            "kind": "text",
                            "label": _s(_("Our signal for a break")),
                        },
                        {
                            "key": "plan",
                            "kind": "long_text",
                            "label": _s(_("What we will each do during the break")),
                        },
                    ],
                },
                {
                    "title": _s(_("How it went")),
                    "help": _s(_("Fill this in after your first check-in.")),
                    "fields": [
                        {
                            "key": "how_it_went",
                            "kind": "scale",
                            "label": _s(_("How did the check-in go?")),
                            "min": 0,
                            "max": 10,
                            "min_label": _s(_("not well")),
                            "max_label": _s(_("very well")),
                        },
                        {
                            "key": "keep",
                            "kind": "long_text",
                            "label": _s(_("What we want to keep doing")),
                        },
                    ],
                },
            ],
        },
    ]


def builtin_library() -> dict[str, Definition]:
    return {d["key"]: parse_definition(d) for d in builtin_definitions()}
