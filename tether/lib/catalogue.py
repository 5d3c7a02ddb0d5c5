"""Which messages patients and families read, and whether the Spanish catalogue has them.

The test suite (tether/lib/tests/test_spanish_catalogue.py) fails when a patient- or
family-facing msgid has no Spanish; scripts/catalogue_share.py prints the share.
Messages are taken straight from the sources (Django's own template lexer for
templates, the syntax tree for Python), so the check needs no gettext tools, and are
looked up in tether/locale/es/LC_MESSAGES/django.mo (compiled, committed).
"""

from __future__ import annotations

import ast
import gettext
import re
from collections.abc import Iterable
from pathlib import Path

from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[1]  # the tether package
CATALOGUE = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.mo"

# A message key: (context or "", msgid, plural or "").
Key = tuple[str, str, str]

# Templates a patient or a family member sees. Everything under templates/ except the
# staff area (extends staff/base_staff.html, or a staff-only app or include).
_STAFF_ONLY_APPS = {"flags", "organizations", "staff", "notifications"}
_STAFF_ONLY_NAMES = re.compile(
    r"^(staff_|_)|^(duty_banner|background_banner|snoozed_flags|patient_flags)\.html$"
)

# Python modules whose messages reach patients and families (forms, messages, labels
# and choices on their pages, the safety plan, homework worksheets, crisis lines).
PATIENT_PYTHON = [
    "accounts/forms.py",
    "accounts/views.py",
    "accounts/reset.py",
    "accounts/onboarding.py",
    "accounts/notices.py",
    "checkins/views.py",
    "checkins/languages.py",
    "checkins/summary.py",
    "checkins/charts.py",
    "crisis/forms.py",
    "crisis/offline.py",
    "messaging/forms.py",
    "messaging/views.py",
    "safetyplan/forms.py",
    "safetyplan/models.py",
    "safetyplan/views.py",
    "homework/forms.py",
    "homework/views.py",
    "homework/library.py",
    "family/forms.py",
    "family/views.py",
    "lib/forms.py",
    "privacy/plain_words.py",
    "privacy/views/my_record.py",
    "consent/selectors.py",
    "consent/forms.py",
    "consent/views.py",
    "crisis/resources.py",
]

_TRANSLATE_CALLS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


def patient_templates() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("templates/**/*.html")):
        relative = path.relative_to(ROOT).parts
        app = relative[0] if relative[0] != "templates" else ""
        source = path.read_text(encoding="utf-8")
        if app in _STAFF_ONLY_APPS or "staff" in relative[2:-1] or "staff" in relative[1:2]:
            continue
        if _STAFF_ONLY_NAMES.search(path.name) or "staff/base_staff.html" in source:
            continue
        found.append(path)
    return found


def _python_calls(source: str) -> Iterable[Key]:
    # The templatize output and Python modules are read the same way.
    for match in re.finditer(r"\b(n?p?gettext|_)\(", source):
        name = match.group(1)
        args = _literal_args(source, match.end())
        key = _key(name, args)
        if key is not None:
            yield key


_LITERAL = re.compile(r"""\s*(u?r?'(?:[^'\\]|\\.)*'|u?r?"(?:[^"\\]|\\.)*")\s*(,)?""", re.S)


def _literal_args(source: str, position: int) -> list[str]:
    args: list[str] = []
    while True:
        match = _LITERAL.match(source, position)
        if match is None:
            return args
        args.append(ast.literal_eval(match.group(1)))
        if not match.group(2):
            return args
        position = match.end()


def _key(name: str, args: list[str]) -> Key | None:
    context_at, msgid_at, plural_at = _TRANSLATE_CALLS[name]
    needed = max(i for i in (context_at, msgid_at, plural_at) if i is not None) + 1
    if len(args) < needed:
        return None
    return (
        args[context_at] if context_at is not None else "",
        args[msgid_at],
        args[plural_at] if plural_at is not None else "",
    )


def template_messages(path: Path) -> set[Key]:
    return set(_python_calls(templatize(path.read_text(encoding="utf-8"), origin=str(path))))


def python_messages(path: Path) -> set[Key]:
    keys: set[Key] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in _TRANSLATE_CALLS:
            continue
        args = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        if len(args) != len(node.args):
            continue
        key = _key(name, args)
        if key is not None:
            keys.add(key)
    return keys


def patient_messages() -> dict[Key, str]:
    """Every patient- or family-facing message, with one place it comes from."""
    found: dict[Key, str] = {}
    for path in patient_templates():
        for key in template_messages(path):
            found.setdefault(key, str(path.relative_to(ROOT)))
    for name in PATIENT_PYTHON:
        for key in python_messages(ROOT / name):
            found.setdefault(key, name)
    return {key: where for key, where in found.items() if key[1].strip()}


def spanish_catalogue() -> dict[object, str]:
    with CATALOGUE.open("rb") as handle:
        catalogue: dict[object, str] = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]  # the parsed catalogue, no public accessor
    return catalogue


def is_translated(key: Key, catalogue: dict[object, str]) -> bool:
    context, msgid, plural = key
    lookup = f"{context}\x04{msgid}" if context else msgid
    if plural:
        return bool(catalogue.get((lookup, 0)))
    return bool(catalogue.get(lookup))


def untranslated(catalogue: dict[object, str] | None = None) -> dict[Key, str]:
    catalogue = spanish_catalogue() if catalogue is None else catalogue
    return {
        key: where for key, where in patient_messages().items() if not is_translated(key, catalogue)
    }
