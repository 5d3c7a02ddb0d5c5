"""The audit trail's hash chain: canonical forms, hashes, and the walk that verifies a
chain.

Each organization has its own chain (``chain_key`` is the organization's id, or
``SYSTEM_CHAIN`` for events that belong to no organization). Recording an event takes
no chain lock: the writer stores the event with its **entry hash**::

    entry_hash = SHA-256( canonical_entry(event) )                      (hex, lower case)

and the sealer (``tether.privacy.sealer``) later gives it the next place in its chain
as an ``AuditSeal``, numbered 1, 2, 3, ... without gaps::

    row_hash = SHA-256( previous_hash + canonical_seal(chain_key, sequence,
                                                       event_id, entry_hash) )

where ``previous_hash`` is the ``row_hash`` of the seal before it (``GENESIS_HASH``,
64 zeros, for sequence 1). Events written before sealing existed keep their original
version-1 hash, which covers the row itself with its sequence
(``canonical_v1``). docs/PRIVACY.md gives the same definitions for auditors who
want to check a chain with their own tools.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Subquery

from tether.privacy.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditSeal

V1 = "tether-audit-v1"
ENTRY_VERSION = "tether-audit-entry-v2"
SEAL_VERSION = "tether-audit-v2"

# The event's fields in canonical order (its place in the chain is not among them:
# the seal adds it).
ENTRY_FIELDS = (
    "chain_key",
    "organization_id",
    "occurred_at",
    "actor_id",
    "actor_role",
    "acting_as",
    "relation",
    "patient_id",
    "action",
    "category",
    "object_type",
    "object_id",
    "purpose",
    "client_address",
    "outcome",
)
# Version 1 (events written before sealing): the same fields with the sequence second.
V1_FIELDS = (ENTRY_FIELDS[0], "sequence", *ENTRY_FIELDS[1:])

_ENTRY_TIME = ENTRY_FIELDS.index("occurred_at")
_ENTRY_ADDRESS = ENTRY_FIELDS.index("client_address")

# Compact, ASCII-only JSON: one byte string for one row, on every platform.
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
_UTC = dt.UTC


def normalize_address(value: object) -> str | None:
    """An IP address in one text form (RFC 5952 for IPv6; IPv4-mapped IPv6 as IPv4),
    or None when there is none or it is not an address."""
    if value is None or value == "":
        return None
    return _normalize_text(str(value))


@functools.lru_cache(maxsize=4096)
def _normalize_text(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _stored_address(value: object) -> str | None:
    """The address as the canonical form holds it, from a stored value.

    Stored addresses were normalized when written. IPv4 text comes back from every
    database exactly as written, so it is used as it is (a changed value changes the
    hash); IPv6 goes through the normalizer again because PostgreSQL's ``inet`` prints
    it in its own way.
    """
    if value is None:
        return None
    text = str(value)
    if ":" not in text:
        return text
    return _normalize_text(text)


def format_time(value: dt.datetime) -> str:
    """``occurred_at`` in the canonical form: UTC, microseconds, ``+00:00``."""
    return value.astimezone(_UTC).isoformat(timespec="microseconds")


def _canonical(version: str, values: Sequence[Any], time_at: int, address_at: int) -> str:
    row: list[object] = [version, *values]
    row[1 + time_at] = format_time(values[time_at])
    address = values[address_at]
    if address is not None:
        row[1 + address_at] = _stored_address(address)
    return _ENCODER.encode(row)


def canonical_entry(values: Sequence[Any]) -> str:
    """The canonical form of an event given as values in ``ENTRY_FIELDS`` order.

    A JSON array (RFC 8259, no spaces, non-ASCII escaped) whose first element is
    ``ENTRY_VERSION`` followed by the fields: ids as JSON integers (``null`` when
    empty), codes as JSON strings (``""`` when empty), ``occurred_at`` as ISO 8601 in
    UTC with microseconds (``2026-03-03T19:15:00.123456+00:00``) and
    ``client_address`` as text or ``null``.
    """
    return _canonical(ENTRY_VERSION, values, _ENTRY_TIME, _ENTRY_ADDRESS)


def canonical_v1(values: Sequence[Any]) -> str:
    """Version 1: the same form, ``V1`` first and the sequence after chain_key."""
    return _canonical(V1, values, _ENTRY_TIME + 1, _ENTRY_ADDRESS + 1)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def entry_hash_of(values: Sequence[Any]) -> str:
    return _sha256(canonical_entry(values))


def entry_hash(event: AuditEvent) -> str:
    return entry_hash_of([getattr(event, name) for name in ENTRY_FIELDS])


def seal_hash(
    previous_hash: str, *, chain_key: int, sequence: int, event_id: int, entry: str
) -> str:
    """The row hash of a version-2 seal."""
    return _sha256(
        previous_hash + _ENCODER.encode([SEAL_VERSION, chain_key, sequence, event_id, entry])
    )


def v1_hash(previous_hash: str, values: Sequence[Any]) -> str:
    """The row hash of a version-1 event, given its values in ``V1_FIELDS`` order."""
    return _sha256(previous_hash + canonical_v1(values))


# --- Verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """The first bad row of a chain, and what is wrong with it."""

    kind: str  # "changed", "deleted" or "inserted"
    sequence: int
    event_id: int | None
    detail: str


@dataclass
class ChainReport:
    chain_key: int
    organization_id: int | None
    events: int = 0  # sealed events walked
    head_sequence: int = 0
    head_hash: str = GENESIS_HASH
    head_occurred_at: dt.datetime | None = None
    problem: Problem | None = None
    # Events written but not sealed yet (checked against their entry hash).
    unsealed: int = 0
    oldest_unsealed_at: dt.datetime | None = None
    unsealed_problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.problem is None and not self.unsealed_problems


_EVENT_FIELDS = tuple(f"event__{name}" for name in ENTRY_FIELDS)
_WALK_FIELDS = (
    "sequence",
    "event_id",
    "chain_key",
    "version",
    "previous_hash",
    "row_hash",
    "event__entry_hash",
    *_EVENT_FIELDS,
)
_FIRST_VALUE = len(_WALK_FIELDS) - len(ENTRY_FIELDS)


def chain_keys() -> list[int]:
    """Every chain that has a head or at least one event."""
    keys = set(AuditChainHead.objects.values_list("chain_key", flat=True))
    keys.update(AuditEvent.objects.values_list("chain_key", flat=True).distinct())
    return sorted(keys)


def _seals(chain_key: int, up_to: int | None, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    rows = AuditSeal.objects.filter(chain_key=chain_key)
    if up_to is not None:
        rows = rows.filter(sequence__lte=up_to)
    return rows.order_by("sequence").values_list(*_WALK_FIELDS).iterator(chunk_size=chunk_size)


def _check_seal(row: tuple[Any, ...]) -> str | None:
    """What is wrong with one seal's hashes ("changed" detail), or None."""
    sequence, event_id, seal_chain, version, previous_hash, stored_hash, stored_entry = row[
        :_FIRST_VALUE
    ]
    values = row[_FIRST_VALUE:]
    if values[0] != seal_chain:
        return f"sequence {sequence} (id {event_id}) was moved to another chain"
    if version == AuditSeal.Version.V1:
        computed = v1_hash(previous_hash, [values[0], sequence, *values[1:]])
        if computed != stored_hash:
            return f"sequence {sequence} (id {event_id}) was changed: its fields no longer match its row_hash"
        return None
    if stored_entry is None or entry_hash_of(values) != stored_entry:
        return f"sequence {sequence} (id {event_id}) was changed: its fields no longer match its entry_hash"
    computed = seal_hash(
        previous_hash,
        chain_key=seal_chain,
        sequence=sequence,
        event_id=event_id,
        entry=stored_entry,
    )
    if computed != stored_hash:
        return f"sequence {sequence} (id {event_id}) was changed: its seal no longer matches its row_hash"
    return None


def verify_chain(chain_key: int, *, chunk_size: int = 5000) -> ChainReport:
    """Walk one chain's seals in sequence order, recomputing every hash; stop at the
    first bad one. Then check every event of the chain that is not sealed yet against
    its entry hash.

    Reads as a stream (server-side cursor on PostgreSQL), so memory stays flat
    whatever the chain's length. Seals added while the walk runs are not walked: the
    walk goes up to the chain head as it was when it started.
    """
    head = AuditChainHead.objects.filter(pk=chain_key).values_list(
        "last_sequence", "last_hash", "organization_id"
    )
    head_row = head.first()
    report = ChainReport(
        chain_key=chain_key, organization_id=head_row[2] if head_row is not None else None
    )
    head_sequence = head_row[0] if head_row is not None else None

    expected_sequence = 1
    expected_previous = GENESIS_HASH
    # The hash two rows back: a row chained to it means the row in between was inserted.
    two_back: str | None = None
    last_id: int | None = None
    last_time: dt.datetime | None = None
    organization_at = _FIRST_VALUE + ENTRY_FIELDS.index("organization_id")
    time_at = _FIRST_VALUE + _ENTRY_TIME
    for row in _seals(chain_key, head_sequence, chunk_size):
        sequence, event_id, previous_hash, stored_hash = row[0], row[1], row[4], row[5]
        if report.organization_id is None and row[organization_at] is not None:
            report.organization_id = row[organization_at]
        if sequence != expected_sequence:
            missing = (
                f"sequence {expected_sequence}"
                if sequence == expected_sequence + 1
                else f"sequences {expected_sequence}-{sequence - 1}"
            )
            report.problem = Problem(
                "deleted",
                expected_sequence,
                event_id,
                f"{missing} missing before sequence {sequence} (id {event_id}): rows were deleted",
            )
            return report
        if previous_hash != expected_previous:
            if two_back is not None and previous_hash == two_back:
                report.problem = Problem(
                    "inserted",
                    sequence - 1,
                    last_id,
                    f"sequence {sequence - 1} (id {last_id}) was inserted: "
                    f"sequence {sequence} (id {event_id}) is chained to the row before it",
                )
            else:
                report.problem = Problem(
                    "inserted",
                    sequence,
                    event_id,
                    f"sequence {sequence} (id {event_id}) is not chained to sequence "
                    f"{sequence - 1}: its previous_hash does not match that row's hash "
                    f"(this row was inserted, or sequence {sequence - 1} was rewritten)",
                )
            return report
        changed = _check_seal(row)
        if changed is not None:
            report.problem = Problem("changed", sequence, event_id, changed)
            return report
        two_back, expected_previous = expected_previous, stored_hash
        expected_sequence += 1
        last_id = event_id
        last_time = row[time_at]
        report.events += 1

    last_sequence = expected_sequence - 1
    report.head_sequence = last_sequence
    report.head_hash = expected_previous
    report.head_occurred_at = last_time
    report.problem = _check_head(chain_key, head_row, last_sequence, expected_previous, last_id)
    _check_unsealed(report, chunk_size)
    return report


def _check_unsealed(report: ChainReport, chunk_size: int) -> None:
    """Events of the chain without a seal: each must still match its entry hash."""
    rows = (
        AuditEvent.objects.filter(chain_key=report.chain_key, seal__isnull=True)
        .order_by("pk")
        .values_list("pk", "entry_hash", *ENTRY_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        event_id, stored_entry, values = row[0], row[1], row[2:]
        report.unsealed += 1
        occurred_at = values[_ENTRY_TIME]
        if report.oldest_unsealed_at is None or occurred_at < report.oldest_unsealed_at:
            report.oldest_unsealed_at = occurred_at
        if stored_entry is None or entry_hash_of(values) != stored_entry:
            report.unsealed_problems.append(
                Problem(
                    "changed",
                    0,
                    event_id,
                    f"unsealed event id {event_id} was changed: its fields no longer match "
                    "its entry_hash",
                )
            )


def _check_head(
    chain_key: int,
    head_row: tuple[int, str, int | None] | None,
    last_sequence: int,
    last_hash: str,
    last_id: int | None,
) -> Problem | None:
    if head_row is None:
        if last_sequence == 0:
            return None
        return Problem(
            "changed",
            last_sequence,
            last_id,
            "the chain has events but no chain head row: the head was deleted",
        )
    head_sequence, head_hash, _ = head_row
    if last_sequence < head_sequence:
        missing = (
            f"sequence {head_sequence}"
            if last_sequence + 1 == head_sequence
            else f"sequences {last_sequence + 1}-{head_sequence}"
        )
        return Problem(
            "deleted",
            last_sequence + 1,
            None,
            f"{missing} missing at the end of the chain (the chain head is at "
            f"{head_sequence}): rows were deleted from the tail",
        )
    if last_hash != head_hash:
        return Problem(
            "changed",
            last_sequence,
            last_id,
            f"sequence {last_sequence} (id {last_id}) does not match the chain head's hash: "
            "the last row was rewritten",
        )
    # Seals past the head cannot come from the sealer, which moves the head in the same
    # transaction. One statement, so one snapshot: a concurrent sealer is not mistaken
    # for an insertion.
    head_now = AuditChainHead.objects.filter(pk=OuterRef("chain_key")).values("last_sequence")
    beyond = (
        AuditSeal.objects.filter(chain_key=chain_key, sequence__gt=Subquery(head_now))
        .order_by("sequence")
        .values_list("sequence", "event_id")
        .first()
    )
    if beyond is not None:
        return Problem(
            "inserted",
            beyond[0],
            beyond[1],
            f"sequence {beyond[0]} (id {beyond[1]}) lies beyond the chain head: it was "
            "inserted without going through the sealer",
        )
    return None


# --- Anchors --------------------------------------------------------------------------

ANCHOR_FORMAT = "tether-audit-anchor/1"


@dataclass(frozen=True)
class Anchor:
    chain_key: int
    organization_id: int | None
    sequence: int
    head_hash: str
    occurred_at: dt.datetime | None


def current_anchors() -> list[Anchor]:
    """The chain heads as the database holds them now."""
    return [
        Anchor(chain_key, organization_id, sequence, head_hash, occurred_at)
        for chain_key, organization_id, sequence, head_hash, occurred_at in (
            AuditChainHead.objects.filter(last_sequence__gt=0)
            .order_by("chain_key")
            .values_list(
                "chain_key", "organization_id", "last_sequence", "last_hash", "last_occurred_at"
            )
        )
    ]


def anchors_document(anchors: Iterable[Anchor], *, created_at: dt.datetime) -> dict[str, object]:
    from tether.organizations.models import Organization

    anchors = list(anchors)
    slugs = dict(
        Organization.objects.filter(
            pk__in=[a.organization_id for a in anchors if a.organization_id is not None]
        ).values_list("pk", "slug")
    )
    return {
        "format": ANCHOR_FORMAT,
        "created_at": format_time(created_at),
        "chains": [
            {
                "chain_key": a.chain_key,
                "organization_id": a.organization_id,
                "organization": slugs.get(a.organization_id, "") if a.organization_id else "",
                "sequence": a.sequence,
                "head_hash": a.head_hash,
                "occurred_at": format_time(a.occurred_at) if a.occurred_at else None,
            }
            for a in anchors
        ],
    }


class AnchorFileError(ValueError):
    pass


def parse_anchors(document: object) -> list[Anchor]:
    if not isinstance(document, dict) or document.get("format") != ANCHOR_FORMAT:
        raise AnchorFileError(f"not an anchor file (expected format {ANCHOR_FORMAT!r})")
    chains = document.get("chains")
    if not isinstance(chains, list):
        raise AnchorFileError("the anchor file has no list of chains")
    anchors = []
    for entry in chains:
        try:
            chain_key = int(entry["chain_key"])
            sequence = int(entry["sequence"])
            head_hash = str(entry["head_hash"])
            organization_id = entry.get("organization_id")
        except (KeyError, TypeError, ValueError) as exc:
            raise AnchorFileError(f"a chain entry is incomplete: {entry!r}") from exc
        anchors.append(
            Anchor(
                chain_key,
                int(organization_id) if organization_id is not None else None,
                sequence,
                head_hash,
                None,
            )
        )
    return anchors


def check_anchor(anchor: Anchor) -> Problem | None:
    """The anchored row must still be there with the anchored hash."""
    row = (
        AuditSeal.objects.filter(chain_key=anchor.chain_key, sequence=anchor.sequence)
        .values_list("event_id", "row_hash")
        .first()
    )
    if row is None:
        return Problem(
            "deleted",
            anchor.sequence,
            None,
            f"anchored sequence {anchor.sequence} is gone: the chain was truncated "
            "or rewritten after the anchor was taken",
        )
    if row[1] != anchor.head_hash:
        return Problem(
            "changed",
            anchor.sequence,
            row[0],
            f"sequence {anchor.sequence} (id {row[0]}) no longer has the anchored hash: "
            "the chain was rewritten up to or past the anchor",
        )
    return None
