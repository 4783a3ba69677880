"""Set extras on many nodes in one statement (one ``set_many`` per node costs a commit each)."""

from __future__ import annotations

from aiida import orm
from aiida.manage import get_manager
from aiida.orm.entities import EntityTypes

__all__ = ('update_extras',)


def update_extras(updates: dict[str, dict]) -> None:
    """Merge ``updates`` (``{node UUID: {key: value}}``) into the nodes' extras in one transaction.

    Node objects already loaded in this process keep their old extras in memory until reloaded.
    """
    if not updates:
        return
    query = orm.QueryBuilder().append(orm.Node, filters={'uuid': {'in': list(updates)}}, project=['id', 'uuid', 'extras'])
    rows = [{'id': pk, 'extras': {**(extras or {}), **updates[uuid]}} for pk, uuid, extras in query.iterall()]
    get_manager().get_profile_storage().bulk_update(EntityTypes.NODE, rows)
