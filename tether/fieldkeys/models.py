"""One check value per field-encryption key: proof, kept in the database, of which key
wrote the stored data (tether/fieldkeys/keycheck.py)."""

from __future__ import annotations

from django.db import models


class FieldKeyCheck(models.Model):
    """A known text encrypted under one key of TETHER_FIELD_KEYS, when that key was first
    used with this database. A ring whose key of the same id cannot decrypt it is the
    wrong key; the newest row names the key the data is being written with."""

    key_id = models.CharField(max_length=32, unique=True)
    check_value = models.TextField()
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-registered_at", "-pk"]

    def __str__(self) -> str:
        return self.key_id
