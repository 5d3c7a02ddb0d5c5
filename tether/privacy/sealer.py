"""The sealer: links recorded audit events into their organization's hash chain.

Requests record events without any chain lock (``tether.privacy.audit``); each event
waits in ``AuditPending`` until the sealer gives it the next sequence number of its
chain and a hash linked to the one before (``AuditSeal``), the way a Certificate
Transparency log (RFC 6962) sequences submitted entries a moment after accepting them.

- One sealer at a time per chain: a sealing batch locks the chain head
  (``FOR NO KEY UPDATE``); nothing else ever locks it, so no request waits on it. A
  second sealer (two schedulers by mistake) waits for the batch, then reads the queue
  again and finds only what is left.
- Order: within a batch, events are sealed in the order of their ids. An event whose
  transaction commits late is sealed in a later batch, after events with higher ids:
  the sequence is the order of sealing, and ``occurred_at`` stays the time of the
  access.
- Run by ``manage.py run_scheduler`` on every tick (a few seconds) and by
  ``manage.py seal_audit``. ``sealing_lag()`` says how far behind it is; the
  background health check raises an alarm past ``TETHER_AUDIT_SEAL_LAG_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import DateTimeField, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from tether.privacy import chain
from tether.privacy.models import AuditChainHead, AuditEvent, AuditPending, AuditSeal

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000


def _head(chain_key: int, organization_id: int | None) -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update(no_key=True).filter(pk=chain_key).first()
    if head is not None:
        return head
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(chain_key=chain_key, organization_id=organization_id)],
        ignore_conflicts=True,
    )
    return AuditChainHead.objects.select_for_update(no_key=True).get(pk=chain_key)


def seal_chain_batch(chain_key: int, *, batch_size: int = BATCH_SIZE) -> int:
    """Seal up to ``batch_size`` waiting events of one chain; returns how many."""
    with transaction.atomic():
        first = (
            AuditPending.objects.filter(chain_key=chain_key)
            .select_related("event")
            .order_by("event_id")
            .first()
        )
        if first is None:
            return 0
        head = _head(chain_key, first.event.organization_id)
        # Read the queue again under the head's lock: a sealer that held it before us
        # has committed, and what it sealed has left the queue.
        event_ids = list(
            AuditPending.objects.filter(chain_key=chain_key)
            .order_by("event_id")
            .values_list("event_id", flat=True)[:batch_size]
        )
        if not event_ids:
            return 0
        events = list(
            AuditEvent.objects.filter(pk__in=event_ids)
            .order_by("pk")
            .only("pk", "chain_key", "entry_hash", "occurred_at")
        )
        now = timezone.now()
        previous = head.last_hash
        sequence = head.last_sequence
        seals = []
        for event in events:
            sequence += 1
            if event.entry_hash is None:  # cannot happen: written by audit._append
                raise RuntimeError(f"audit event {event.pk} has no entry hash")
            row_hash = chain.seal_hash(
                previous,
                chain_key=chain_key,
                sequence=sequence,
                event_id=event.pk,
                entry=event.entry_hash,
            )
            seals.append(
                AuditSeal(
                    event_id=event.pk,
                    chain_key=chain_key,
                    sequence=sequence,
                    previous_hash=previous,
                    row_hash=row_hash,
                    version=AuditSeal.Version.V2,
                    sealed_at=now,
                )
            )
            previous = row_hash
        AuditSeal.objects.bulk_create(seals)
        AuditPending.objects.filter(event_id__in=event_ids).delete()
        head.last_sequence = sequence
        head.last_hash = previous
        head.last_occurred_at = events[-1].occurred_at
        head.save(update_fields=["last_sequence", "last_hash", "last_occurred_at"])
        return len(seals)


def seal_pending(*, batch_size: int = BATCH_SIZE) -> int:
    """Seal every waiting event of every chain; returns how many were sealed."""
    total = 0
    chain_keys = sorted(
        AuditPending.objects.values_list("chain_key", flat=True).distinct().order_by()
    )
    for chain_key in chain_keys:
        while True:
            sealed = seal_chain_batch(chain_key, batch_size=batch_size)
            total += sealed
            if sealed < batch_size:
                break
    return total


FIRST_WAITING = 200


def oldest_unsealed_at() -> dt.datetime | None:
    """When the oldest event still waiting for the sealer occurred (None: none waits)."""
    # Each waiting event looked up by its key (the queue is short while the sealer runs):
    # a join let PostgreSQL walk the whole trail's index when its statistics of the queue
    # were stale (1.5 s on a 500,000-event trail; docs/BENCHMARKS.md).
    #
    # Only the first waiting events by key are read (``FIRST_WAITING``): keys are taken in
    # the order events are written, so the oldest waiting event is among them unless one
    # request's transaction outlasted that many later writes; the lag it feeds is judged
    # in minutes (TETHER_AUDIT_SEAL_LAG_SECONDS). Reading every waiting event made each
    # staff page of the people who see the health banner slower the longer the sealer
    # was down (14 ms after a few hundred waiting events; docs/BENCHMARKS.md).
    oldest: dt.datetime | None = first_waiting().aggregate(oldest=Min("at"))["oldest"]
    return oldest


def first_waiting() -> QuerySet[AuditPending]:
    """The first ``FIRST_WAITING`` waiting events by key, each with when it occurred
    (``at``): the oldest is among them (``oldest_unsealed_at``; the health check reads
    the same within its one statement, tether/crisis/health.py)."""
    occurred = AuditEvent.objects.filter(pk=OuterRef("event_id")).values("occurred_at")[:1]
    return AuditPending.objects.annotate(
        at=Subquery(occurred, output_field=DateTimeField())
    ).order_by("event_id")[:FIRST_WAITING]


def sealing_lag(*, now: dt.datetime | None = None) -> dt.timedelta:
    """How long the oldest waiting event has waited (zero when nothing waits)."""
    oldest = oldest_unsealed_at()
    if oldest is None:
        return dt.timedelta(0)
    return max((now or timezone.now()) - oldest, dt.timedelta(0))
