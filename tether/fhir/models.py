"""The FHIR API's own records: the registered systems (SMART Backend Services clients),
the access tokens issued to them, the client assertions already used (replay), and bulk
export jobs with their NDJSON files.

A client belongs to one organization and one program, and is one consent ``Recipient``:
what the patient consents to release to that recipient is what the client may receive
of the patient's Part 2 records (``tether.privacy.gate.release_categories``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.consent.models import Recipient
from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization, Program


class FhirClient(models.Model):
    """A system (an EHR, a payer) registered by a program admin with its public keys."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="+")
    # The OAuth client_id: the `iss` and `sub` of its client assertions.
    client_id = models.CharField(max_length=64, unique=True, editable=False)
    # The client's public keys (a JWK Set), public keys only.
    jwks = models.JSONField()
    # The SMART scopes granted, space separated ("system/Observation.read ...").
    scopes = models.CharField(max_length=500)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("FHIR client")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"FHIR client {self.client_id}"

    @property
    def granted(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


def new_client_id() -> str:
    return uuid.uuid4().hex


class AccessToken(models.Model):
    """A short-lived bearer token. Only its SHA-256 is stored."""

    client = models.ForeignKey(FhirClient, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.CharField(max_length=500)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"token #{self.pk}"


class UsedAssertion(models.Model):
    """A client assertion's `jti`, kept until the assertion expires: a replay is refused."""

    client = models.ForeignKey(FhirClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="fhir_assertion_used_once")
        ]

    def __str__(self) -> str:
        return f"assertion {self.jti}"


class ExportJob(models.Model):
    """One bulk `$export` (FHIR Bulk Data): kicked off, run by the worker, downloaded."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        RUNNING = "running", _("Running")
        COMPLETE = "complete", _("Complete")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(FhirClient, on_delete=models.PROTECT, related_name="exports")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    types = models.CharField(max_length=200)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACCEPTED)
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    patients = models.PositiveIntegerField(default=0)
    withheld = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"export {self.key}"


class ExportFile(models.Model):
    """One part of an export's NDJSON file for one resource type (one chunk of rows),
    encrypted at rest. The worker writes a part per chunk, so no file is ever held
    whole in memory; the download streams the parts in order as one file."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=64)
    part = models.PositiveIntegerField(default=0)
    count = models.PositiveIntegerField()
    content = EncryptedTextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "resource_type", "part"], name="fhir_export_one_part"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}.ndjson"
