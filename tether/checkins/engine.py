"""The instrument engine: reads an instrument definition (plain data, see
``instruments/*.json`` and docs/HOWTO-add-an-instrument.md), checks answers against
it, and scores them exactly as published.

Pure Python, no database: the exhaustive scoring tests run every PHQ-9 and GAD-7
answer combination through ``score`` in a few seconds.

Rules that never bend:

- A missing scored item is never scored as 0. If any scored item is missing the
  response is *incomplete*: no total, no band, no caseness (no pro-rating; the
  reference marks pro-rating as an unverified convention).
- Alert rules (PHQ-9 item 9 > 0) are checked on each answer as it is given, not at
  the end, so an abandoned questionnaire still raises its flag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tether.lib.text import clean_free_text

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"


class DefinitionError(ValueError):
    """An instrument file that the engine cannot use."""


class InvalidAnswer(ValueError):
    """An answer that is not one of the item's answers (out of range or forged)."""


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc: str = ""


@dataclass(frozen=True)
class Item:
    code: str
    kind: str  # "choice" | "scale" | "text"
    text: str
    loinc: str = ""
    options: tuple[Option, ...] = ()
    minimum: int = 0
    maximum: int = 0
    low_label: str = ""
    high_label: str = ""
    scored: bool = False
    required: bool = True
    only_if_program: str = ""  # a Program boolean field, e.g. "treats_substance_use"
    chart: bool = False
    max_length: int = 1000
    show_stem: bool = True

    @property
    def values(self) -> tuple[int, ...]:
        if self.kind == "choice":
            return tuple(option.value for option in self.options)
        if self.kind == "scale":
            return tuple(range(self.minimum, self.maximum + 1))
        return ()

    def option_for(self, value: int) -> Option | None:
        for option in self.options:
            if option.value == value:
                return option
        return None

    def clean(self, raw: object) -> int | str:
        """The stored value of a posted answer, or ``InvalidAnswer``."""
        if self.kind == "text":
            # Line breaks count once (a browser sends CRLF) and control characters go,
            # before the length is checked: what fits on the page fits here.
            text = clean_free_text(raw)
            if len(text) > self.max_length:
                raise InvalidAnswer(self.code)
            return text
        # Only the instrument's own answer codes, exactly as the page sends them:
        # int() would also take "+1", "0_3", " 1", full-width or Arabic-Indic digits.
        if not isinstance(raw, str):
            raise InvalidAnswer(self.code)
        for value in self.values:
            if raw == str(value):
                return value
        raise InvalidAnswer(self.code)


@dataclass(frozen=True)
class Band:
    minimum: int
    maximum: int
    code: str
    label: str


@dataclass(frozen=True)
class AlertRule:
    item: str
    at_least: int
    reason: str
    kind: str = "safety"

    def fires(self, value: int | str | None) -> bool:
        return isinstance(value, int) and value >= self.at_least


@dataclass(frozen=True)
class Definition:
    code: str
    version: int
    name: str
    short_name: str
    kind: str  # "measure" | "self_monitoring"
    validated: bool
    source: str
    stem: str
    items: tuple[Item, ...]
    scoring_method: str  # "sum" | "none"
    score_min: int = 0
    score_max: int = 0
    bands: tuple[Band, ...] = ()
    caseness_at: int | None = None
    reliable_change: int | None = None
    positive_at: int | None = None
    positive_at_by_sex: Mapping[str, int] = field(default_factory=dict)
    alerts: tuple[AlertRule, ...] = ()
    loinc_panel: str = ""
    loinc_total: str = ""
    unverified: bool = False
    notes: tuple[str, ...] = ()

    @property
    def is_scored(self) -> bool:
        return self.scoring_method == "sum"

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)

    def items_for(self, program_flags: Mapping[str, bool]) -> tuple[Item, ...]:
        """The items a patient in a program with these flags is asked, in order."""
        return tuple(
            item
            for item in self.items
            if not item.only_if_program or program_flags.get(item.only_if_program, False)
        )

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def band_for(self, total: int) -> Band | None:
        for band in self.bands:
            if band.minimum <= total <= band.maximum:
                return band
        return None

    def alerts_for(self, item_code: str, value: int | str | None) -> list[AlertRule]:
        return [rule for rule in self.alerts if rule.item == item_code and rule.fires(value)]


@dataclass(frozen=True)
class Score:
    complete: bool
    total: int | None
    band: Band | None
    missing: tuple[str, ...]
    positive: bool | None  # a screen's positive result (PHQ-2); None when not a screen
    caseness: bool | None  # at or above the caseness threshold (IAPT); None if none


def score(definition: Definition, answers: Mapping[str, int | str | None]) -> Score:
    """Score a response. ``answers`` maps item codes to values; absent = missing."""
    if not definition.is_scored:
        return Score(True, None, None, (), None, None)
    missing = tuple(
        item.code for item in definition.scored_items if not isinstance(answers.get(item.code), int)
    )
    if missing:
        return Score(False, None, None, missing, None, None)
    total = 0
    for item in definition.scored_items:
        value = answers[item.code]
        assert isinstance(value, int)  # noqa: S101 - checked just above
        total += value
    positive = None if definition.positive_at is None else total >= definition.positive_at
    caseness = None if definition.caseness_at is None else total >= definition.caseness_at
    return Score(True, total, definition.band_for(total), (), positive, caseness)


@dataclass(frozen=True)
class Change:
    """IAPT change from the episode's baseline (first complete response)."""

    baseline: int
    current: int
    reliable_improvement: bool
    reliable_deterioration: bool
    recovery: bool  # moved from caseness to below it
    reliable_recovery: bool  # recovery together with reliable improvement

    @property
    def difference(self) -> int:
        return self.current - self.baseline


def change(definition: Definition, *, baseline: int, current: int) -> Change | None:
    if definition.reliable_change is None:
        return None
    threshold = definition.reliable_change
    improvement = baseline - current >= threshold
    deterioration = current - baseline >= threshold
    recovery = False
    if definition.caseness_at is not None:
        recovery = baseline >= definition.caseness_at and current < definition.caseness_at
    return Change(
        baseline=baseline,
        current=current,
        reliable_improvement=improvement,
        reliable_deterioration=deterioration,
        recovery=recovery,
        reliable_recovery=recovery and improvement,
    )


# --- Reading definitions --------------------------------------------------------------


def _option(data: Mapping[str, Any]) -> Option:
    return Option(int(data["value"]), str(data["label"]), str(data.get("loinc", "")))


def parse(data: Mapping[str, Any]) -> Definition:
    """A ``Definition`` from an instrument file's data; ``DefinitionError`` if unusable."""
    try:
        option_sets = {
            name: tuple(_option(o) for o in options)
            for name, options in data.get("option_sets", {}).items()
        }
        items = []
        for raw in data["items"]:
            kind = raw["kind"]
            if kind not in ("choice", "scale", "text"):
                raise DefinitionError(f"{data['code']}: unknown item kind {kind!r}")
            items.append(
                Item(
                    code=str(raw["code"]),
                    kind=kind,
                    text=str(raw["text"]),
                    loinc=str(raw.get("loinc", "")),
                    options=option_sets[raw["options"]] if kind == "choice" else (),
                    minimum=int(raw.get("min", 0)),
                    maximum=int(raw.get("max", 0)),
                    low_label=str(raw.get("low_label", "")),
                    high_label=str(raw.get("high_label", "")),
                    scored=bool(raw.get("scored", False)),
                    required=bool(raw.get("required", True)),
                    only_if_program=str(raw.get("only_if_program", "")),
                    chart=bool(raw.get("chart", False)),
                    max_length=int(raw.get("max_length", 1000)),
                    show_stem=bool(raw.get("stem", True)),
                )
            )
        scoring = data["scoring"]
        definition = Definition(
            code=str(data["code"]),
            version=int(data["version"]),
            name=str(data["name"]),
            short_name=str(data["short_name"]),
            kind=str(data["kind"]),
            validated=bool(data["validated"]),
            source=str(data.get("source", "")),
            stem=str(data.get("stem", "")),
            items=tuple(items),
            scoring_method=str(scoring["method"]),
            score_min=int(scoring.get("min", 0)),
            score_max=int(scoring.get("max", 0)),
            bands=tuple(
                Band(int(b["min"]), int(b["max"]), str(b["code"]), str(b["label"]))
                for b in data.get("bands", [])
            ),
            caseness_at=data.get("caseness_at"),
            reliable_change=data.get("reliable_change"),
            positive_at=data.get("positive_at"),
            positive_at_by_sex=dict(data.get("positive_at_by_sex", {})),
            alerts=tuple(
                AlertRule(str(a["item"]), int(a["at_least"]), str(a["reason"]), str(a["kind"]))
                for a in data.get("alerts", [])
            ),
            loinc_panel=str(data.get("loinc_panel", "")),
            loinc_total=str(data.get("loinc_total", "")),
            unverified=bool(data.get("unverified", False)),
            notes=tuple(str(n) for n in data.get("notes", [])),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, DefinitionError):
            raise
        raise DefinitionError(f"{data.get('code', '?')}: {error!r}") from error
    _check(definition)
    return definition


def _check(definition: Definition) -> None:
    codes = [item.code for item in definition.items]
    if len(set(codes)) != len(codes):
        raise DefinitionError(f"{definition.code}: item codes repeat")
    for rule in definition.alerts:
        if rule.item not in codes:
            raise DefinitionError(f"{definition.code}: alert on unknown item {rule.item}")
    if definition.is_scored:
        low = sum(min(item.values) for item in definition.scored_items)
        high = sum(max(item.values) for item in definition.scored_items)
        if (low, high) != (definition.score_min, definition.score_max):
            raise DefinitionError(f"{definition.code}: score range {low}-{high} disagrees")
        covered = [t for b in definition.bands for t in range(b.minimum, b.maximum + 1)]
        if definition.bands and sorted(covered) != list(range(low, high + 1)):
            raise DefinitionError(f"{definition.code}: bands must cover every total once")


def load_file(path: Path) -> tuple[Definition, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return parse(data), data


def shipped() -> list[tuple[Definition, dict[str, Any]]]:
    """Every instrument file shipped with Tether, sorted by code and version."""
    found = [load_file(path) for path in sorted(INSTRUMENTS_DIR.glob("*.json"))]
    return sorted(found, key=lambda pair: (pair[0].code, pair[0].version))
