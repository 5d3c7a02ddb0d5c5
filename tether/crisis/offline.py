"""Crisis help while the database is down.

Every page reads the database (sessions live there), so when PostgreSQL is unreachable
nothing can be looked up. The page a person then gets (HTTP 503, ``unavailable``) must
still show their own program's crisis line, so the lines are kept outside the
database:

- a **snapshot** of every active program's crisis lines, a small JSON file in
  ``TETHER_VAR_DIR`` (``crisis-lines.json``), written when a program is saved, when a
  web process starts, and every 10 minutes by each web process (``start_refresher``);
  each process also keeps the last copy it read in memory;
- a **program hint cookie** (signed, HttpOnly) naming the signed-in patient's (or
  proxy's) program, bound to their session cookie: it is only honoured while the
  browser still holds the session it was issued with, so a signed-out browser on a
  shared device reveals nothing about which program anyone is treated in.

Without a hint, the page lists the programs of the organization this host serves
(``TETHER_HOST_ORGANIZATIONS``), like the signed-out crisis page; failing that, the
national lines and the paperwork sentence. What the person had typed (a POST) is shown
back in a form that sends it again, so nothing is lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from tether.crisis.resources import NATIONAL_CONTACTS, CrisisContact
from tether.organizations.hosts import slug_for_host

logger = logging.getLogger(__name__)

SNAPSHOT_NAME = "crisis-lines.json"
HINT_COOKIE = "tether_crisis_program"
HINT_SALT = "tether.crisis.program-hint"
REFRESH_SECONDS = 600

_lock = threading.Lock()
_memory: dict[str, Any] = {}
_memory_mtime: float | None = None


def snapshot_path() -> Path:
    return Path(settings.VAR_DIR) / SNAPSHOT_NAME


# --- Writing the snapshot (the database is up) -------------------------------------------


def write_snapshot() -> None:
    """Write every active program's crisis lines to the snapshot file (atomically)."""
    from tether.organizations.models import Program

    programs = Program.objects.filter(is_active=True).values(
        "pk",
        "name",
        "crisis_line",
        "crisis_line_takes_texts",
        "after_hours_line",
        "organization__slug",
    )
    data: dict[str, Any] = {"programs": {}, "organizations": {}}
    for row in programs.order_by("organization__slug", "name", "pk"):
        data["programs"][str(row["pk"])] = {
            "name": row["name"],
            "crisis_line": row["crisis_line"],
            "takes_texts": row["crisis_line_takes_texts"],
            "after_hours_line": row["after_hours_line"],
        }
        data["organizations"].setdefault(row["organization__slug"], []).append(str(row["pk"]))
    path = snapshot_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=".crisis-lines.", delete=False, encoding="utf-8"
    ) as handle:
        json.dump(data, handle)
    os.replace(handle.name, path)
    with _lock:
        _memory.clear()
        _memory.update(data)


def write_snapshot_quietly() -> None:
    """At start-up or on a timer: keep the old snapshot if the database is not there."""
    from django.db import DatabaseError

    try:
        write_snapshot()
    except (DatabaseError, OSError):
        logger.warning("could not refresh the crisis-line snapshot; keeping the last one")


def start_refresher() -> None:
    """Refresh the snapshot every 10 minutes from a background thread of this web
    process (never on a request's path, so no page pays for it)."""
    from django.db import connections

    def loop() -> None:
        while True:
            time.sleep(REFRESH_SECONDS)
            write_snapshot_quietly()
            connections.close_all()

    threading.Thread(target=loop, name="crisis-line-snapshot", daemon=True).start()


# --- Reading it (the database may be down) ------------------------------------------------


def read_snapshot() -> dict[str, Any]:
    """The last snapshot: from the file when it changed, else the copy in memory."""
    global _memory_mtime
    path = snapshot_path()
    try:
        mtime = path.stat().st_mtime
        if mtime != _memory_mtime:
            data = json.loads(path.read_text(encoding="utf-8"))
            with _lock:
                _memory.clear()
                _memory.update(data)
                _memory_mtime = mtime
    except (OSError, ValueError):
        logger.warning("the crisis-line snapshot %s cannot be read", path)
    return _memory


@dataclass(frozen=True)
class ProgramLines:
    name: str
    contacts: list[CrisisContact]


def _lines(entry: dict[str, Any]) -> ProgramLines:
    # The same wording as resources.program_contacts, from the snapshot.
    contacts = [
        CrisisContact(
            _("%(program)s crisis line") % {"program": entry["name"]},
            entry["crisis_line"],
            _("Your program's crisis line."),
            can_text=bool(entry.get("takes_texts")),
        )
    ]
    if entry.get("after_hours_line"):
        contacts.append(
            CrisisContact(
                _("After-hours on-call clinician"),
                entry["after_hours_line"],
                _("Evenings, nights and weekends."),
            )
        )
    return ProgramLines(entry["name"], contacts)


def _session_fingerprint(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:24]


def hint_value(*, program_id: int, session_key: str) -> str:
    return signing.dumps({"p": program_id, "s": _session_fingerprint(session_key)}, salt=HINT_SALT)


def hinted_program_id(request: HttpRequest) -> int | None:
    """The program named by the hint cookie, if it belongs to this browser's session."""
    raw = request.COOKIES.get(HINT_COOKIE)
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not raw or not session_key:
        return None
    try:
        hint = signing.loads(raw, salt=HINT_SALT, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(hint, dict) or hint.get("s") != _session_fingerprint(session_key):
        return None
    program_id = hint.get("p")
    return program_id if isinstance(program_id, int) else None


def programs_for_outage(request: HttpRequest) -> tuple[list[ProgramLines], bool]:
    """The crisis lines to show without the database, and whether they are the person's
    own program's (True) or their organization's programs (False)."""
    snapshot = read_snapshot()
    programs = snapshot.get("programs", {})
    program_id = hinted_program_id(request)
    if program_id is not None and str(program_id) in programs:
        return [_lines(programs[str(program_id)])], True
    try:
        slug = slug_for_host(request.get_host())
    except DisallowedHost:
        slug = None
    ids = snapshot.get("organizations", {}).get(slug, []) if slug else []
    return [_lines(programs[i]) for i in ids if i in programs], False


# --- What was typed ------------------------------------------------------------------------

_DROP = re.compile(r"password|secret|otp|csrfmiddlewaretoken", re.IGNORECASE)
_HIDDEN = re.compile(r"token|key|_id$|^id$|^next$", re.IGNORECASE)


def kept_fields(request: HttpRequest) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What the person sent, to show back: (visible text fields, hidden fields).
    Secrets (passwords, codes) are never echoed; checkboxes and tokens ride along hidden."""
    visible: list[tuple[str, str]] = []
    hidden: list[tuple[str, str]] = []
    if request.method != "POST":
        return visible, hidden
    for name, values in request.POST.lists():
        if _DROP.search(name):
            continue
        for value in values:
            if _HIDDEN.search(name) or value in {"on", "true", "1"} or not value.strip():
                hidden.append((name, value))
            else:
                visible.append((name, value))
    return visible, hidden


# --- The page --------------------------------------------------------------------------------


def unavailable(request: HttpRequest, *, not_delivered: bool = False) -> HttpResponse:
    """The 503 page: crisis lines (the person's program's, 988, 911) and what they typed.

    Rendered without the request's context processors: nothing here reads the database.
    """
    program_lines, own = programs_for_outage(request)
    visible, hidden = kept_fields(request)
    html = render_to_string(
        "crisis/unavailable.html",
        {
            "not_delivered": not_delivered or request.method == "POST",
            "national_contacts": NATIONAL_CONTACTS,
            "program_lines": program_lines,
            "own_program": own,
            "visible_fields": visible,
            "hidden_fields": hidden,
            "resend_to": request.path,
            # A CSRF token from the cookie (no database), so "Send again" works.
            "csrf_token": get_token(request) if visible or hidden else "",
        },
    )
    response = HttpResponse(html, status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response
