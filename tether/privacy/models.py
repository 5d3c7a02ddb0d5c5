"""Privacy records: the audit trail and emergency (break-glass) access grants."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tether.lib.fields import EncryptedTextField
from tether.organizations.models import Organization
from tether.patients.models import Patient


class Purpose(models.TextChoices):
    """Why the data is used (v3-ActReason codes where one exists)."""

    TREATMENT = "TREAT", _("Treatment")
    PAYMENT = "HPAYMT", _("Payment")
    OPERATIONS = "HOPERAT", _("Health-care operations")
    PATIENT_REQUEST = "PATRQT", _("The patient's own request")
    FAMILY = "FAMRQT", _("Family member's request")
    EMERGENCY = "ETREAT", _("Emergency treatment")
    AUDIT = "HSYSADMIN", _("Audit and privacy review")


# The chain of events that belong to no organization (for example a signed-out
# request that was refused). Organization ids start at 1, so 0 is never one of them.
SYSTEM_CHAIN = 0
# The previous_hash of the first event of every chain.
GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One read, write or denied attempt on patient data. Ids and codes only.

    Rows are append-only (database triggers refuse UPDATE, DELETE and TRUNCATE on
    PostgreSQL, UPDATE and DELETE on SQLite). Writing one takes no lock that other
    work waits on: the writer inserts the event with its ``entry_hash`` (SHA-256 of
    the row's canonical form) and a ``AuditPending`` row, and the sealer
    (``tether.privacy.sealer``) later gives it its place in its organization's hash
    chain as an ``AuditSeal``. Write them only with ``tether.privacy.audit``.
    """

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("allowed")
        DENIED = "denied", _("denied")

    # The three references are indexed only by the (reference, occurred_at) indexes
    # below, which also serve a look-up by the reference alone: a single-column index
    # of each as well was three more index entries for every event (a list page writes
    # sixty), 0.6-0.9 ms of its audit insert (docs/BENCHMARKS.md, twelfth pass). Nor
    # are they the database's foreign keys (PostgreSQL; migration 0006): checking them
    # at each commit was 2.5-3 ms of a list page's view. The ids are those of rows the
    # writer has just read; Django still refuses to delete a row the trail names.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    # The chain this row belongs to: the organization's id, or SYSTEM_CHAIN. Never
    # NULL, so it can also be the distribution column on Citus.
    chain_key = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    actor_role = models.CharField(max_length=32, blank=True)
    acting_as = models.CharField(max_length=32, blank=True)
    # The relation that allowed the access (policy.Relation code), when the gate decided.
    relation = models.CharField(max_length=32, blank=True)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(max_length=16)
    category = models.CharField(max_length=32)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    purpose = models.CharField(max_length=16)
    client_address = models.GenericIPAddressField(null=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    # SHA-256 of the canonical form of this row (chain.entry_hash), taken when it was
    # written. NULL only for events written before sealing existed (chain version 1),
    # whose seal hashes the row itself.
    entry_hash = models.CharField(max_length=64, null=True)  # noqa: DJ001 - NULL marks v1 events, "" would look like a hash

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=True, chain_key=SYSTEM_CHAIN)
                | Q(organization__isnull=False, chain_key=F("organization")),
                name="auditevent_chain_is_organization",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "occurred_at"]),
            models.Index(fields=["patient", "occurred_at"]),
            models.Index(fields=["actor", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"audit event {self.pk} (chain {self.chain_key})"


class AuditPending(models.Model):
    """An event the sealer has not chained yet: a work queue, not the trail.

    Written beside each event in the same transaction and deleted by the sealer
    when it seals the event. ``verify_audit`` does not trust this table: it finds
    unsealed events from the trail itself.
    """

    # (Written in the same statement as its event: not a foreign key the database checks
    # at the commit, as the event's own references are not.)
    event = models.OneToOneField(
        AuditEvent,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        db_constraint=False,
    )
    chain_key = models.PositiveBigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["chain_key", "event"])]

    def __str__(self) -> str:
        return f"audit event {self.event_id} waiting to be sealed"


class AuditSeal(models.Model):
    """An event's place in its organization's hash chain, written by the sealer alone.

    Within a chain, seals are numbered 1, 2, 3, ... without gaps, and each one's
    ``row_hash`` links it to the seal before it (``tether.privacy.chain``). Append-only
    like the events (the same triggers).
    """

    class Version(models.IntegerChoices):
        # Events written before sealing existed: the hash covers the row itself.
        V1 = 1, "tether-audit-v1"
        # The hash covers the event's entry_hash, its id and its place.
        V2 = 2, "tether-audit-v2"

    event = models.OneToOneField(
        AuditEvent, on_delete=models.PROTECT, primary_key=True, related_name="seal"
    )
    chain_key = models.PositiveBigIntegerField()
    sequence = models.PositiveBigIntegerField()
    previous_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)
    version = models.PositiveSmallIntegerField(choices=Version.choices)
    sealed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chain_key", "sequence"], name="auditseal_unique_chain_sequence"
            ),
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="auditseal_sequence_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"audit seal {self.chain_key}/{self.sequence}"


class AuditChainHead(models.Model):
    """The tip of one audit chain: its last sealed sequence number and hash.

    Only the sealer moves it (``SELECT ... FOR NO KEY UPDATE`` for the length of one
    sealing batch), so no request ever waits on it. This table is not the trail: it
    is updated in place, and ``verify_audit`` checks it against the last seal.
    """

    chain_key = models.PositiveBigIntegerField(primary_key=True)
    organization = models.OneToOneField(
        Organization, on_delete=models.PROTECT, related_name="+", null=True
    )
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # When the last sealed event occurred.
    last_occurred_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=True, chain_key=SYSTEM_CHAIN)
                | Q(organization__isnull=False, chain_key=F("organization")),
                name="auditchainhead_key_is_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"audit chain {self.chain_key} at {self.last_sequence}"


class BreakGlassGrant(models.Model):
    """Time-limited emergency access to one patient by a clinician outside the care team."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    reason_code = models.CharField(_("kind of emergency"), max_length=32, blank=True)
    # The clinician's own words: free text that may hold clinical detail, so encrypted.
    reason = EncryptedTextField(_("reason for emergency access"))
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]

    def __str__(self) -> str:
        return f"emergency access grant {self.pk}"
