"""Writes to the profile's storage that another process may hold: SQLite lets one writer at a time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from ..core.structures.datasets import DatasetError

__all__ = ('ONE_WRITER', 'is_locked', 'retry_when_locked', 'take_write_lock')

T = TypeVar('T')

#: What to do when SQLite stays locked (the end of the message).
ONE_WRITER = 'run one writer at a time, or move to a PostgreSQL profile for concurrent work (docs: Get started, production)'

#: Seconds to wait before each retry: 2.5 min in all, longer than a 678-configuration import takes.
BACKOFF = (1, 2, 4, 8, 15, 30, 30, 60)


def is_locked(exc: Exception) -> bool:
    """Whether ``exc`` (an SQLAlchemy ``OperationalError``) is SQLite's "database is locked"."""
    return 'database is locked' in str(exc)


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
            if not is_locked(exc):
                raise
            if pause is None:
                raise DatasetError(
                    f'{what}: the SQLite profile stayed locked by another writer for {sum(BACKOFF)} s; {ONE_WRITER}'
                ) from exc
            time.sleep(pause)
    raise AssertionError('unreachable')


def take_write_lock() -> None:
    """Inside a storage transaction, wait until this process is the only one that may write, before it reads
    what is stored: two imports of the same file would otherwise both find a configuration missing and both
    store it. SQLite: its single write lock (taken by a write that changes nothing); PostgreSQL: a
    transaction-scoped advisory lock of this package.
    """
    from aiida.manage import get_manager
    from sqlalchemy import text

    session = get_manager().get_profile_storage().get_session()
    if session.bind.dialect.name == 'postgresql':
        session.execute(text('SELECT pg_advisory_xact_lock(:key)'), {'key': ADVISORY_LOCK})
    else:
        session.execute(text('UPDATE db_dbgroup SET label = label WHERE id = -1'))


#: The PostgreSQL advisory lock key of genome imports (any fixed 64-bit number; this one spells "dgimport").
ADVISORY_LOCK = int.from_bytes(b'dgimport', 'big') - 2**63
