"""Refuse a field-encryption key ring that cannot read what is stored.

A well-formed but wrong ``TETHER_FIELD_KEYS`` used to pass every check: the site came
up, pages with encrypted text failed, and new text was stored under the wrong key.
Now each key, when first used with a database, leaves a **check value** there (a known
text encrypted under it: ``FieldKeyCheck``). Before the ring is used:

- every key of the ring that has a check value must decrypt it (``fieldkeys.E001``:
  same id, other key);
- the key registered last, the one the data is being written with, must be in the ring
  (``fieldkeys.E002``: a ring that lacks it would write new text nobody can read with
  the right ring, and cannot read the newest data).

A database without check values yet (installed before this check) is verified against
the newest stored value of every encrypted column instead, then registered.

Where it runs: a system check (``manage.py check``, ``check --deploy``, ``migrate``,
``runserver``), at web start-up (``tether/wsgi.py``: gunicorn refuses to boot) and at
the start of ``rotate_keys``. Keys of the ring without a check value are registered
after a successful verification (after ``migrate``, at web start-up, by ``rotate_keys``),
newest last, so a new key put at the front of the ring is taken up and rotation keeps
working. A key removed from the ring after ``rotate_keys`` is simply no longer checked.
Skipped (logged) when the table does not exist yet or the database is unreachable: the
web must still start and serve its crisis pages during an outage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections, models
from django.db.models import F
from django.db.models.functions import Cast

from tether.lib import fields as encrypted
from tether.lib.crypto import DecryptionError, KeyRing, MissingKeyError, key_id_of, key_ring

logger = logging.getLogger(__name__)

CHECK_TEXT = "Tether field-encryption key check"
CONTEXT = "fieldkeys_fieldkeycheck.check_value"
TABLE = "fieldkeys_fieldkeycheck"

WRONG_KEY = "fieldkeys.E001"
KEY_MISSING = "fieldkeys.E002"


@dataclass(frozen=True)
class KeyProblem:
    code: str
    key_id: str
    message: str
    hint: str


def _wrong_key(key_id: str) -> KeyProblem:
    return KeyProblem(
        WRONG_KEY,
        key_id,
        f"TETHER_FIELD_KEYS: key {key_id!r} cannot decrypt the data stored under key "
        f"{key_id!r}: it is another key with the same id.",
        f"Put the real {key_id!r} back in the ring. Nothing was written with this one; "
        "starting with it would store new text under a key the data does not use.",
    )


def _key_missing(key_id: str, ring: KeyRing) -> KeyProblem:
    return KeyProblem(
        KEY_MISSING,
        key_id,
        f"TETHER_FIELD_KEYS: the stored data was written with key {key_id!r}, which is not "
        f"in the key ring ({', '.join(ring.key_ids)}).",
        f"Add {key_id!r} back to the ring (after the newest key). Remove an old key only "
        "after `manage.py rotate_keys` reports 0 rows.",
    )


def _table_exists(using: str) -> bool:
    with connections[using].cursor() as cursor:
        return TABLE in connections[using].introspection.table_names(cursor)


def _sample_stored_values(ring: KeyRing, using: str) -> list[KeyProblem]:
    """Without check values: the newest value of every encrypted column must decrypt."""
    problems: list[KeyProblem] = []
    for model, fields in encrypted.encrypted_fields():
        for field in fields:
            raw = (
                model._base_manager.using(using)
                .filter(**{f"{field.attname}__isnull": False})
                .annotate(_ciphertext=Cast(F(field.attname), output_field=models.TextField()))
                .order_by("-pk")
                .values_list("_ciphertext", flat=True)
                .first()
            )
            if raw is None:
                continue
            try:
                ring.decrypt(raw, context=field.context)
            except MissingKeyError as error:
                problems.append(_key_missing(error.key_id, ring))
            except DecryptionError:
                try:
                    problems.append(_wrong_key(key_id_of(raw)))
                except DecryptionError:
                    continue  # not a Tether value at all: rotate_keys reports those
    return problems


def verify(ring: KeyRing | None = None, *, using: str = DEFAULT_DB_ALIAS) -> list[KeyProblem]:
    """What is wrong with the ring for this database (empty: nothing)."""
    from tether.fieldkeys.models import FieldKeyCheck

    ring = ring or key_ring()
    rows = list(FieldKeyCheck.objects.using(using).values_list("key_id", "check_value"))
    if not rows:
        problems = _sample_stored_values(ring, using)
    else:
        problems = []
        for key_id, check_value in rows:
            if key_id not in ring.key_ids:
                continue  # retired after rotation, or not yet back: see the newest below
            try:
                readable = ring.decrypt(check_value, context=CONTEXT) == CHECK_TEXT
            except DecryptionError:
                readable = False
            if not readable:
                problems.append(_wrong_key(key_id))
        newest = rows[0][0]
        if newest not in ring.key_ids:
            problems.append(_key_missing(newest, ring))
    unique: dict[tuple[str, str], KeyProblem] = {}
    for problem in problems:
        unique.setdefault((problem.code, problem.key_id), problem)
    return list(unique.values())


def register(ring: KeyRing | None = None, *, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Store a check value for each key of the ring that has none (oldest first, so the
    newest key is the last registered). Call only after ``verify`` found nothing."""
    from tether.fieldkeys.models import FieldKeyCheck

    ring = ring or key_ring()
    known = set(FieldKeyCheck.objects.using(using).values_list("key_id", flat=True))
    added = []
    for key in reversed(ring.keys):
        if key.key_id in known:
            continue
        value = KeyRing([key]).encrypt(CHECK_TEXT, context=CONTEXT)
        FieldKeyCheck.objects.using(using).create(key_id=key.key_id, check_value=value)
        added.append(key.key_id)
    if added:
        logger.info("field-encryption key check values stored for %s", ", ".join(added))
    return added


def verify_and_register(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """For start-up and rotate_keys: raise ImproperlyConfigured naming the key, or register
    the ring's new keys. Skipped when the table or the database is not there."""
    try:
        if not _table_exists(using):
            return
        problems = verify(using=using)
        if problems:
            raise ImproperlyConfigured(
                "\n".join(f"{p.message} {p.hint} ({p.code})" for p in problems)
            )
        register(using=using)
    except (OperationalError, InterfaceError):
        logger.warning("database unreachable: the field-encryption keys were not verified")


def check_field_keys(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The system check (every ``manage.py check``, ``check --deploy`` and ``migrate``)."""
    try:
        if not _table_exists(DEFAULT_DB_ALIAS):
            return []  # before the first migrate
        problems = verify()
    except (OperationalError, InterfaceError):
        logger.warning("database unreachable: the field-encryption keys were not verified")
        return []
    return [checks.Error(p.message, hint=p.hint, id=p.code) for p in problems]


def register_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate: take up the ring on a fresh (or newly upgraded) database. A ring that
    fails verification is left unregistered; the system check reports it."""
    try:
        if _table_exists(using) and not verify(using=using):
            register(using=using)
    except (OperationalError, InterfaceError):
        logger.warning("database unreachable: the field-encryption keys were not registered")
