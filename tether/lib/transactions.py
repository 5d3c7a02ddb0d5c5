"""Run a transaction again when it loses a deadlock or a serialization race.

PostgreSQL ends one of the transactions in a lock cycle with ``deadlock_detected``
(40P01) and, under REPEATABLE READ or SERIALIZABLE, a loser of a race with
``serialization_failure`` (40001); SQLite answers "database is locked" when its busy
timeout runs out. In each case nothing of the losing transaction was kept, so running
the same work again, with the same idempotency key, is safe and is what the person
meant. ``docs/ARCHITECTURE.md`` ("Locks") says which writes use this and why.

Only a whole transaction can be retried: called inside an atomic block, this runs the
work once and leaves a conflict to the owner of the outer transaction (a savepoint
cannot recover from a deadlock: PostgreSQL aborts the whole transaction).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

DEADLOCK = "40P01"
SERIALIZATION_FAILURE = "40001"
ATTEMPTS = 4


def is_conflict(error: BaseException) -> bool:
    """A lost deadlock or serialization race (or SQLite's busy lock): worth a retry."""
    cause = error.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if code in (DEADLOCK, SERIALIZATION_FAILURE):
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error)


def retry_on_conflict[T](
    work: Callable[[], T], *, attempts: int = ATTEMPTS, what: str = "transaction"
) -> T:
    """Run ``work`` (which opens its own transaction); on a conflict run it again, up to
    ``attempts`` times in all, with a short random back-off. Other errors, and the
    last conflict, are raised."""
    if connection.in_atomic_block:
        return work()
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as error:
            if not is_conflict(error) or attempt == attempts:
                raise
            logger.warning(
                "%s lost a lock conflict (attempt %d of %d), running it again",
                what,
                attempt,
                attempts,
            )
            time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")  # pragma: no cover
