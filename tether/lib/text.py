"""Free text as it arrives from a browser, made ready to count and to store.

Browsers send a textarea's line breaks as CRLF (two characters) while the page's own
``maxlength`` counts each line break as one, so a note that fits on the page would be
"too long" on the server. Control characters (NUL, escape, …) are never typed on
purpose; they come from a paste or a forged request and make text unreadable or
unstorable (PostgreSQL refuses NUL in text). Every free-text field goes through
``clean_free_text`` (``tether.lib.forms.FreeTextField`` for forms), before its length
is checked.
"""

from __future__ import annotations

import unicodedata

_KEPT = frozenset("\t\n")


def normalize_newlines(value: str) -> str:
    """CRLF and lone CR become LF: one line break is one character."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def strip_control_characters(value: str, *, multiline: bool = True) -> str:
    """Drop C0/C1 control characters (category Cc), keeping tab and, in multi-line
    text, the newline. A newline in single-line text becomes a space."""
    if not multiline:
        value = value.replace("\n", " ")
    return "".join(ch for ch in value if ch in _KEPT or unicodedata.category(ch) != "Cc")


def clean_free_text(value: object, *, multiline: bool = True) -> str:
    """What was typed, normalized: line breaks as LF, no control characters, no
    surrounding white space. ``None`` is the empty string."""
    if value is None:
        return ""
    text = normalize_newlines(str(value))
    return strip_control_characters(text, multiline=multiline).strip()
