"""``EncryptedTextField``: free-text clinical content, encrypted at rest.

Use it for text a clinician or patient writes (messages, homework answers,
safety plans, notes)::

    body = EncryptedTextField(_("message"))

The column holds ``tether:v1:<key id>:...`` (see ``tether.lib.crypto``); Python
code only ever sees the text. Because the database only sees ciphertext, the
column cannot be searched, compared, indexed or made unique: every lookup but
``isnull`` is refused with a ``FieldError`` (``field=None`` works too), and the
system checks reject ``unique``/``db_index``/``primary_key``.

The ciphertext is bound to its table and column (associated data), not to its
row: an auto-increment primary key does not exist yet when an INSERT is
encrypted, and ``from_db_value`` never sees the row. Renaming the table or the
column therefore needs ``encryption_context="<old table>.<old column>"`` on the
field, so that existing rows stay readable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core import checks
from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.lookups import Exact, IsNull
from django.utils.translation import gettext_lazy as _

from tether.lib.crypto import key_ring


def _refuse(field: EncryptedTextField, what: str) -> FieldError:
    return FieldError(
        f"{field.model._meta.label}.{field.name} is encrypted at rest: the database cannot "
        f"{what} it. Filter on other columns, or only with __isnull."
    )


class _NoneOnlyExact(Exact):
    """``field=None`` (which Django turns into ``__isnull``); any other value is refused."""

    def __init__(self, lhs: Any, rhs: Any) -> None:
        if rhs is not None:
            raise _refuse(lhs.output_field, "compare")
        super().__init__(lhs, rhs)


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    description = _("Text encrypted at rest (AES-256-GCM)")

    def __init__(self, *args: Any, encryption_context: str | None = None, **kwargs: Any) -> None:
        self.encryption_context = encryption_context
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.encryption_context is not None:
            kwargs["encryption_context"] = self.encryption_context
        return name, path, args, kwargs

    @property
    def context(self) -> str:
        """The associated data that binds each value to this column."""
        return self.encryption_context or f"{self.model._meta.db_table}.{self.column}"

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        for option in ("primary_key", "unique", "db_index"):
            if getattr(self, option, False):
                errors.append(
                    checks.Error(
                        f"EncryptedTextField cannot use {option}=True: the column holds "
                        "ciphertext that differs on every write.",
                        obj=self,
                        id="tether.E001",
                    )
                )
        return errors

    # --- Python <-> database -------------------------------------------------------

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or isinstance(value, Expression):
            return value
        return key_ring().encrypt(str(value), context=self.context)

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None:
            return None
        return key_ring().decrypt(value, context=self.context)

    # --- Queries: ciphertext cannot be searched -----------------------------------

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return _NoneOnlyExact
        raise _refuse(self, f"search ({lookup_name})")

    def get_transform(self, lookup_name: str) -> Any:
        raise _refuse(self, f"transform ({lookup_name})")


def encrypted_fields(
    models_to_scan: Iterable[type[models.Model]] | None = None,
) -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every concrete model with encrypted columns of its own, and those fields.

    Proxy and unmanaged models are skipped (their rows belong to another model, or
    their tables are not ours); inherited fields belong to the parent's table.
    """
    found: list[tuple[type[models.Model], list[EncryptedTextField]]] = []
    for model in models_to_scan if models_to_scan is not None else apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = [f for f in meta.local_concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found
