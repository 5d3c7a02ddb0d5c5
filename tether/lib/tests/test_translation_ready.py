"""Every user-facing string in a template is marked for translation.

Spanish comes in a later issue; this keeps the templates ready for it. The test
removes everything Django will translate or fill in, and fails on any words
left over (visible text, or aria-label / title / alt / placeholder values).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for pattern in ("templates/**/*", "jinja2/**/*")  # and the row templates (tether/lib/jinja.py)
    for path in TEMPLATE_ROOT.rglob(pattern)
    if path.suffix in {".html", ".txt"} and path.is_file()
)
ALLOWED_WORDS = {"Tether"}  # the product's name is not translated

_S = re.S
_STRIP = [
    re.compile(r"{#.*?#}", _S),
    re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", _S),
    re.compile(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", _S),
    re.compile(r"{%\s*blocktrans\b.*?{%\s*endblocktrans\s*%}", _S),
    re.compile(r"<(script|style)\b.*?</\1>", _S),
    re.compile(r"<svg\b.*?</svg>", _S),
    re.compile(r"{%\s*block\s+body_class\s*%}.*?{%\s*endblock", _S),  # CSS class names
]
_ATTRIBUTE = re.compile(r'\b(aria-label|title|alt|placeholder)="([^"]*)"')


def _leftover_words(source: str) -> list[str]:
    text = source
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    attribute_words = []
    for _, value in _ATTRIBUTE.findall(text):
        value = re.sub(r"{%.*?%}|{{.*?}}", " ", value, flags=_S)
        attribute_words.extend(re.findall(r"[A-Za-z]{2,}", value))
    text = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=_S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=_S)
    text = re.sub(r"<[^>]*>", " ", text, flags=_S)
    words = re.findall(r"[A-Za-z]{2,}", html.unescape(text)) + attribute_words
    return [word for word in words if word not in ALLOWED_WORDS]


def test_it_finds_the_templates():
    assert len(TEMPLATES) >= 10
    assert any(path.parent.parent.name == "jinja2" for path in TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATE_ROOT)))
def test_it_marks_every_string_for_translation(template):
    leftovers = _leftover_words(template.read_text(encoding="utf-8"))
    assert not leftovers, f"untranslated text in {template.name}: {leftovers[:10]}"


def test_it_catches_an_unmarked_string():
    assert _leftover_words("<p>{% translate 'Fine' %}</p><p>Not marked</p>") == ["Not", "marked"]
    assert _leftover_words('<a aria-label="Close">{{ x }}</a>') == ["Close"]
