"""Set extras on many nodes in one transaction, key by key in the storage itself, so that processes setting
other keys of the same nodes at the same time keep their writes (one ``set_many`` per node costs a commit each,
and a read-merge-write of the whole dict loses whatever another process wrote in between)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from aiida import orm
from aiida.common import timezone
from aiida.manage import get_manager
from aiida.orm.implementation.utils import clean_value

__all__ = ('update_extras',)


def update_extras(updates: dict[str, dict]) -> None:
    """Set the keys of ``updates`` (``{node UUID: {key: value}}``) in the nodes' extras, each key replaced as a
    whole and the other keys untouched; values are cleaned as AiiDA cleans extras (numpy scalars to numbers).

    Node objects already loaded in this process keep their old extras in memory until reloaded.
    """
    if not updates:
        return
    storage = get_manager().get_profile_storage()
    ids = orm.QueryBuilder().append(orm.Node, filters={'uuid': {'in': list(updates)}}, project=['uuid', 'id']).all()
    nodes = sa.table('db_dbnode', sa.column('id'), sa.column('extras'), sa.column('mtime'))
    with storage.transaction() as session:
        merge = _sqlite_merge if session.bind.dialect.name == 'sqlite' else _postgres_merge
        for uuid, pk in sorted(ids, key=lambda row: row[1]):  # one order for every writer: no deadlock
            values = {key: clean_value(value) for key, value in updates[uuid].items()}
            extras = merge(nodes.c.extras, values)
            session.execute(sa.update(nodes).where(nodes.c.id == pk).values(extras=extras, mtime=timezone.now()))


def _sqlite_merge(column, values: dict):
    """``json_set(extras, '$."key"', json(value), ...)``: one statement, so atomic under SQLite's write lock."""
    arguments = []
    for key, value in values.items():
        arguments += ['$."{}"'.format(key.replace('"', '\\"')), sa.func.json(json.dumps(value))]
    return sa.func.json_set(sa.func.coalesce(column, '{}'), *arguments)


def _postgres_merge(column, values: dict):
    """``extras || patch`` (jsonb concatenation: the patch's top-level keys replace the old ones)."""
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.func.coalesce(column, sa.literal({}, JSONB)).op('||')(sa.literal(values, JSONB))
