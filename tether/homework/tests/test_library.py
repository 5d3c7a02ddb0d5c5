from __future__ import annotations

import copy

import pytest

from tether.homework.library import TemplateError, builtin_definitions, parse_definition
from tether.homework.selectors import templates_for
from tether.homework.services import program_template_add

REQUIRED = {
    "thought_record",
    "behavioral_activation",
    "dbt_diary_card",
    "relapse_prevention",
    "coping_skills",
    "reflection",
}


def test_it_ships_the_library_the_issue_asks_for():
    keys = {d["key"] for d in builtin_definitions()}
    assert keys >= REQUIRED
    for data in builtin_definitions():
        definition = parse_definition(data)
        assert definition.title and definition.steps


def test_it_repeats_the_diary_card_for_each_day():
    from datetime import date

    diary = parse_definition(next(d for d in builtin_definitions() if d["key"] == "dbt_diary_card"))
    steps = diary.expanded_steps(date(2026, 11, 23))
    assert len(steps) == 7
    assert steps[0].title.startswith("Monday, November 23")
    kinds = {f.key: f.kind for f in steps[0].fields}
    assert kinds["urge_self_harm"] == "scale" and kinds["skills"] == "choices"


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.update(key="Not A Slug"),
        lambda d: d.update(steps=[]),
        lambda d: d["steps"][0]["fields"][0].update(kind="video"),
        lambda d: d["steps"][0]["fields"].append(dict(d["steps"][0]["fields"][0])),
        lambda d: d.update(per_day=99),
        lambda d: d.update(title="x" * 500),
    ],
)
def test_it_refuses_malformed_templates(breakage):
    data = copy.deepcopy(builtin_definitions()[0])
    breakage(data)
    with pytest.raises(TemplateError):
        parse_definition(data)


def test_a_program_can_add_its_own_template(cast):
    program_template_add(
        program=cast.iop,
        data={
            "key": "gratitude",
            "title": "Three good things",
            "steps": [
                {
                    "title": "Today",
                    "fields": [{"key": "things", "kind": "list", "label": "Good things"}],
                }
            ],
        },
    )
    assert "gratitude" in templates_for(programs=[cast.iop])
    assert "gratitude" not in templates_for(programs=[cast.adolescent_iop])
