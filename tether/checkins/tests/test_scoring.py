"""Every possible PHQ-9 and GAD-7 answer combination, scored by the engine and by an
independent oracle written here from the published tables (clinical.md). Pure
Python, no database."""

from __future__ import annotations

import itertools

import pytest

from tether.checkins import engine

DEFINITIONS = {d.code: d for d, _data in engine.shipped()}

# The oracle: the published tables, written out by hand (not read from the JSON).
PHQ9_BANDS = [
    (0, 4, "minimal"),
    (5, 9, "mild"),
    (10, 14, "moderate"),
    (15, 19, "moderately_severe"),
    (20, 27, "severe"),
]
GAD7_BANDS = [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]
PHQ9_CASENESS, PHQ9_RELIABLE = 10, 6
GAD7_CASENESS, GAD7_RELIABLE = 8, 4


def oracle_band(table: list[tuple[int, int, str]], total: int) -> str:
    matches = [code for low, high, code in table if low <= total <= high]
    assert len(matches) == 1
    return matches[0]


def _exhaustive(code: str, items: int, table: list[tuple[int, int, str]], caseness: int) -> int:
    definition = DEFINITIONS[code]
    codes = [str(n) for n in range(1, items + 1)]
    checked = 0
    for combo in itertools.product(range(4), repeat=items):
        result = engine.score(definition, dict(zip(codes, combo, strict=True)))
        total = 0
        for value in combo:
            total += value
        assert result.complete
        assert result.total == total
        assert result.band is not None and result.band.code == oracle_band(table, total)
        assert result.caseness == (total >= caseness)
        checked += 1
    return checked


def test_it_scores_every_phq9_combination_as_published():
    assert _exhaustive("phq9", 9, PHQ9_BANDS, PHQ9_CASENESS) == 4**9 == 262_144


def test_it_scores_every_gad7_combination_as_published():
    assert _exhaustive("gad7", 7, GAD7_BANDS, GAD7_CASENESS) == 4**7 == 16_384


def test_it_flags_every_phq9_item9_answer_above_zero_and_no_other():
    definition = DEFINITIONS["phq9"]
    for code in [str(n) for n in range(1, 11)]:
        for value in range(4):
            fired = [rule.reason for rule in definition.alerts_for(code, value)]
            assert fired == (["phq9_item9"] if code == "9" and value > 0 else [])


def test_it_screens_every_phq2_combination():
    definition = DEFINITIONS["phq2"]
    for a, b in itertools.product(range(4), repeat=2):
        result = engine.score(definition, {"1": a, "2": b})
        assert result.total == a + b
        assert result.positive == (a + b >= 3)


def test_it_never_scores_a_missing_item_as_zero():
    definition = DEFINITIONS["phq9"]
    full = {str(n): 3 for n in range(1, 10)}
    for missing in full:
        answers = {k: v for k, v in full.items() if k != missing}
        result = engine.score(definition, answers)
        assert not result.complete
        assert result.total is None and result.band is None and result.caseness is None
        assert result.missing == (missing,)
    # Item 10 is not scored: leaving it out changes nothing.
    assert engine.score(definition, full).total == 27


@pytest.mark.parametrize(
    ("baseline", "current", "improved", "worse", "recovery", "reliable_recovery"),
    [
        (18, 12, True, False, False, False),  # drop of 6: reliable, still at caseness
        (18, 13, False, False, False, False),  # drop of 5: not reliable
        (18, 9, True, False, True, True),  # below 10 and a drop of 6 or more
        (12, 9, False, False, True, False),  # recovery without reliable improvement
        (9, 4, False, False, False, False),  # never at caseness: no recovery
        (8, 14, False, True, False, False),  # rise of 6: reliable deterioration
        (8, 13, False, False, False, False),
    ],
)
def test_it_applies_iapt_change_rules_to_the_phq9(
    baseline, current, improved, worse, recovery, reliable_recovery
):
    change = engine.change(DEFINITIONS["phq9"], baseline=baseline, current=current)
    assert change is not None
    assert change.reliable_improvement is improved
    assert change.reliable_deterioration is worse
    assert change.recovery is recovery
    assert change.reliable_recovery is reliable_recovery


def test_it_uses_gad7_thresholds_for_gad7_change():
    definition = DEFINITIONS["gad7"]
    for baseline, current in itertools.product(range(22), repeat=2):
        change = engine.change(definition, baseline=baseline, current=current)
        assert change is not None
        assert change.reliable_improvement == (baseline - current >= GAD7_RELIABLE)
        assert change.reliable_deterioration == (current - baseline >= GAD7_RELIABLE)
        assert change.recovery == (baseline >= GAD7_CASENESS > current)


def test_it_refuses_answers_outside_the_instrument():
    item = DEFINITIONS["phq9"].item("9")
    for forged in ("4", "-1", "", "1.5", "Several days", None, "99999999999"):
        with pytest.raises(engine.InvalidAnswer):
            item.clean(forged)
    assert item.clean("2") == 2
    mood = DEFINITIONS["daily"].item("mood")
    assert [mood.clean(str(v)) for v in range(11)] == list(range(11))
    with pytest.raises(engine.InvalidAnswer):
        mood.clean("11")


def test_it_reports_audit_c_against_both_cut_offs_without_calling_it():
    definition = DEFINITIONS["auditc"]
    result = engine.score(definition, {"1": 4, "2": 4, "3": 4})
    assert result.total == 12 and result.positive is None  # sex is not recorded
    assert dict(definition.positive_at_by_sex) == {"male": 4, "female": 3}
    assert definition.unverified


def test_it_asks_about_craving_only_in_substance_use_programs():
    definition = DEFINITIONS["daily"]
    assert [i.code for i in definition.items_for({})] == ["mood", "sleep", "note"]
    assert [i.code for i in definition.items_for({"treats_substance_use": True})] == [
        "mood",
        "sleep",
        "craving",
        "note",
    ]
    assert not definition.validated and not definition.is_scored


def test_it_refuses_a_definition_whose_bands_leave_a_gap():
    _definition, data = next(pair for pair in engine.shipped() if pair[0].code == "gad7")
    broken = {**data, "bands": data["bands"][:-1]}
    with pytest.raises(engine.DefinitionError):
        engine.parse(broken)
