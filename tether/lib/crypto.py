"""Field encryption at rest: a key ring and AES-256-GCM (authenticated encryption).

A stored value looks like ``tether:v1:<key id>:<base64url(nonce | ciphertext | tag)>``:
versioned and self-describing, so that a reader knows which key to use and a
later format can live next to this one.

The associated data (authenticated, not stored) is ``tether:v1:<key id>:<context>``,
where the context names the table and column the value belongs to. A value
copied into another column, or relabelled with another key id, fails to
decrypt instead of showing up in the wrong place.

Keys come from ``TETHER_FIELD_KEYS`` (or ``TETHER_FIELD_KEYS_FILE``):
comma- or newline-separated ``keyid:base64key`` entries, newest first. The
newest key encrypts; every key decrypts. See docs/PRIVACY.md, "Encryption at rest".

Reading never degrades to showing ciphertext: an unknown key id raises
``MissingKeyError`` and a tampered or truncated value raises ``InvalidToken``.

``python -m tether.lib.crypto`` prints a fresh key entry without needing Django
settings (a production server refuses to start until it has one).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

SCHEME = "tether"
VERSION = "v1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96-bit random nonce, the size GCM is designed for
TAG_BYTES = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ENTRY_SEPARATORS = re.compile(r"[,\s]+")


class CryptoError(Exception):
    """Base class for every encryption-at-rest error."""


class KeyRingError(CryptoError, ValueError):
    """The key ring configuration is unusable (bad entry, short key, duplicate id)."""


class DecryptionError(CryptoError):
    """A stored value cannot be turned back into text. Never shown as text instead."""


class MissingKeyError(DecryptionError):
    """The value was written under a key that is not in the key ring."""

    def __init__(self, key_id: str, *, context: str = "") -> None:
        self.key_id = key_id
        self.context = context
        where = f" in {context}" if context else ""
        super().__init__(
            f"An encrypted value{where} was written under key {key_id!r}, which is not in "
            "TETHER_FIELD_KEYS. Add that key back to the ring (after the newest key) to read it."
        )


class InvalidToken(DecryptionError):  # the name the cryptography world uses
    """The value is tampered with, truncated, bound to another column, or not ours."""


@dataclass(frozen=True)
class FieldKey:
    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.key_id):
            raise KeyRingError(
                f"Key id {self.key_id!r} must be 1-32 letters, digits, '-' or '_' (no ':')."
            )
        if len(self.secret) != KEY_BYTES:
            raise KeyRingError(
                f"Key {self.key_id!r} is {len(self.secret)} bytes; AES-256 needs {KEY_BYTES}."
            )

    def entry(self) -> str:
        """The ``keyid:base64key`` form used in TETHER_FIELD_KEYS."""
        return f"{self.key_id}:{base64.b64encode(self.secret).decode('ascii')}"


def generate_key(*, now: datetime | None = None) -> FieldKey:
    """A new random key whose id sorts by creation date (``k20261126-1a2b3c``)."""
    stamp = (now or datetime.now(tz=UTC)).strftime("%Y%m%d")
    return FieldKey(f"k{stamp}-{secrets.token_hex(3)}", secrets.token_bytes(KEY_BYTES))


def _decode_b64(text: str) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    altchars = b"-_" if ("-" in text or "_" in text) else None
    return base64.b64decode(padded, altchars=altchars, validate=True)


def parse_keys(text: str) -> tuple[FieldKey, ...]:
    """Parse ``keyid:base64key`` entries, separated by commas or whitespace, newest first."""
    keys: list[FieldKey] = []
    for position, entry in enumerate(e for e in _ENTRY_SEPARATORS.split(text) if e):
        key_id, sep, encoded = entry.partition(":")
        if not sep or not key_id or not encoded:
            raise KeyRingError(f"Key entry {position + 1} is not in the form keyid:base64key.")
        try:
            secret = _decode_b64(encoded)
        except (binascii.Error, ValueError):
            raise KeyRingError(f"Key {key_id!r} is not valid base64.") from None
        keys.append(FieldKey(key_id, secret))
    if not keys:
        raise KeyRingError("The key ring is empty.")
    seen: set[str] = set()
    for key in keys:
        if key.key_id.lower() in seen:
            raise KeyRingError(f"Key id {key.key_id!r} appears twice in the key ring.")
        seen.add(key.key_id.lower())
    return tuple(keys)


class KeyRing:
    """Keys newest first: the first encrypts, all decrypt."""

    def __init__(self, keys: Iterable[FieldKey]) -> None:
        self.keys = tuple(keys)
        if not self.keys:
            raise KeyRingError("The key ring is empty.")
        self._ciphers = {key.key_id: AESGCM(key.secret) for key in self.keys}
        # Case-insensitively distinct: SQLite's LIKE (used to find stale rows) ignores case.
        if len({key.key_id.lower() for key in self.keys}) != len(self.keys):
            raise KeyRingError("The key ring has two keys with the same id (ignoring case).")

    @property
    def primary(self) -> FieldKey:
        return self.keys[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key.key_id for key in self.keys)

    @staticmethod
    def prefix_for(key_id: str) -> str:
        """Every value written under ``key_id`` starts with this text."""
        return f"{SCHEME}:{VERSION}:{key_id}:"

    @property
    def current_prefix(self) -> str:
        return self.prefix_for(self.primary.key_id)

    @staticmethod
    def _associated_data(key_id: str, context: str) -> bytes:
        return f"{SCHEME}:{VERSION}:{key_id}:{context}".encode()

    def encrypt(self, plaintext: str, *, context: str) -> str:
        key_id = self.primary.key_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(
            nonce, plaintext.encode("utf-8"), self._associated_data(key_id, context)
        )
        payload = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return self.prefix_for(key_id) + payload

    def decrypt(self, token: str, *, context: str) -> str:
        key_id, payload = _split(token, context=context)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise MissingKeyError(key_id, context=context)
        try:
            raw = _decode_b64(payload)
        except (binascii.Error, ValueError):
            raise InvalidToken(f"An encrypted value in {context} is corrupt.") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise InvalidToken(f"An encrypted value in {context} is truncated.")
        try:
            plain = cipher.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._associated_data(key_id, context)
            )
        except InvalidTag:
            raise InvalidToken(
                f"An encrypted value in {context} failed authentication: it was changed, "
                "copied from another column, or written under another key with the same id."
            ) from None
        return plain.decode("utf-8")

    def is_current(self, token: str) -> bool:
        return token.startswith(self.current_prefix)

    def reencrypt(self, token: str, *, context: str) -> str:
        """The same text under the newest key (a fresh nonce either way)."""
        return self.encrypt(self.decrypt(token, context=context), context=context)


def _split(token: str, *, context: str) -> tuple[str, str]:
    parts = token.split(":", 3)
    if len(parts) != 4 or parts[0] != SCHEME:
        raise InvalidToken(f"A value in {context} is not an encrypted Tether value.")
    if parts[1] != VERSION:
        raise InvalidToken(f"A value in {context} uses an unknown format {parts[1]!r}.")
    return parts[2], parts[3]


def key_id_of(token: str) -> str:
    """The key id a stored value names, without decrypting it."""
    return _split(token, context="this column")[0]


# --- The configured ring ---------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _ring_for(keys: tuple[FieldKey, ...]) -> KeyRing:
    return KeyRing(keys)


def key_ring() -> KeyRing:
    """The ring from settings.TETHER_FIELD_KEYS (cached per distinct ring)."""
    # Imported here so that this module works without Django settings (python -m).
    from django.conf import settings

    return _ring_for(tuple(settings.TETHER_FIELD_KEYS))


def _write_new_key_file(path: Path) -> None:
    """Create ``path`` with one new key, atomically and only if it does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".field-keys-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(generate_key().entry() + "\n")
        os.chmod(temporary, 0o600)
        with contextlib.suppress(FileExistsError):  # another process won the race: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def field_keys_from_settings(
    configured: str, *, demo_key_file: Path | None
) -> tuple[FieldKey, ...]:
    """The key ring settings.py uses.

    ``configured`` is the TETHER_FIELD_KEYS value. When it is empty, a DEBUG or
    demo instance (``demo_key_file`` given) uses a key file it generates once
    and keeps, so demo data survives restarts; anything else refuses to start.
    """
    try:
        if configured.strip():
            return parse_keys(configured)
        if demo_key_file is None:
            raise ImproperlyConfigured(
                "TETHER_FIELD_KEYS (or TETHER_FIELD_KEYS_FILE) must be set when DEBUG is off: "
                "it holds the keys that encrypt clinical text at rest. Make one with "
                "`python -m tether.lib.crypto` and keep it as safe as the database backups."
            )
        if not demo_key_file.exists():
            _write_new_key_file(demo_key_file)
        return parse_keys(demo_key_file.read_text(encoding="utf-8"))
    except KeyRingError as exc:
        source = "TETHER_FIELD_KEYS" if configured.strip() else str(demo_key_file)
        raise ImproperlyConfigured(f"{source}: {exc}") from exc


if __name__ == "__main__":  # pragma: no cover - a convenience for operators
    print(generate_key().entry())
