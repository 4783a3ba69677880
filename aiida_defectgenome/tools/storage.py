"""Writes to the profile's storage that another process may hold: SQLite lets one writer at a time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from ..core.datasets import DatasetError

__all__ = ('retry_when_locked',)

T = TypeVar('T')

#: Seconds to wait before each retry: 2.5 min in all, longer than a 678-configuration import takes.
BACKOFF = (1, 2, 4, 8, 15, 30, 30, 60)


def retry_when_locked(action: Callable[[], T], what: str) -> T:
    """Return ``action()``, run again after a pause while SQLite answers "database is locked" (another
    process writing to the same profile); ``action`` must write in one transaction, so that a try that
    failed left nothing behind.

    :raises DatasetError: naming ``what`` once the pauses of :data:`BACKOFF` are spent.
    """
    from sqlalchemy.exc import OperationalError

    for pause in (*BACKOFF, None):
        try:
            return action()
        except OperationalError as exc:
            if 'database is locked' not in str(exc):
                raise
            if pause is None:
                raise DatasetError(
                    f'{what}: the SQLite profile stayed locked by another writer for {sum(BACKOFF)} s; run one writer '
                    'at a time, or move to a PostgreSQL profile for concurrent work (docs: Get started, production)'
                ) from exc
            time.sleep(pause)
    raise AssertionError('unreachable')
