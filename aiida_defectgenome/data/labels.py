"""Reference labels (energy, forces, stress) of configurations, stored as a table in an ``ArrayData``.

One node holds the labels of M configurations (an import stores one table for the whole file, a DFT
run a table of one row). Arrays: ``energy`` ``(M,)`` eV (total), ``natoms`` ``(M,)``, ``forces``
``(sum natoms, 3)`` eV/A in row order, ``stress`` ``(M, 3, 3)`` eV/A^3 (ASE sign: tension positive;
NaN where unknown). Attributes: ``engine`` (the code that made them), ``units``.
A configuration points at its row with the extras ``dg_labels`` (node UUID) and ``dg_labels_row``.
"""

from __future__ import annotations

import numpy as np
from aiida import orm

from ..core.structures.datasets import Labels

__all__ = (
    'UNITS',
    'group_pointers',
    'label_tables',
    'labels_of',
    'labels_rows',
    'labels_table',
    'point_to_labels',
    'tables_by_uuid',
)

UNITS = {'energy': 'eV', 'forces': 'eV/A', 'stress': 'eV/A^3'}


def labels_table(rows: list[Labels], engine: str) -> orm.ArrayData:
    """Return an unstored ``ArrayData`` holding ``rows``, made by ``engine`` (e.g. ``'VASP'``, ``'GPAW'``)."""
    node = orm.ArrayData()
    node.set_array('energy', np.array([row.energy for row in rows], dtype=float))
    node.set_array('natoms', np.array([len(row.forces) for row in rows], dtype=np.int64))
    node.set_array('forces', np.concatenate([row.forces for row in rows]).reshape(-1, 3))
    nan = np.full((3, 3), np.nan)
    node.set_array('stress', np.array([nan if row.stress is None else row.stress for row in rows], dtype=float))
    node.base.attributes.set_many({'engine': engine, 'units': UNITS})
    return node


def labels_rows(node: orm.ArrayData) -> list[Labels]:
    """Return the :class:`Labels` of every row of a labels table."""
    energy, natoms = node.get_array('energy'), node.get_array('natoms')
    forces = np.split(node.get_array('forces'), np.cumsum(natoms)[:-1])
    stress = node.get_array('stress')
    return [Labels(energy=float(e), forces=f, stress=None if np.isnan(s).all() else s) for e, f, s in zip(energy, forces, stress)]


def point_to_labels(structure: orm.StructureData, table: orm.ArrayData, row: int) -> None:
    """Record in ``structure``'s extras that its labels are row ``row`` of ``table``."""
    structure.base.extras.set_many({'dg_labels': table.uuid, 'dg_labels_row': row})


def label_tables(structures: list[orm.StructureData]) -> dict[str, orm.ArrayData]:
    """The labels tables that ``structures`` point to, by UUID, loaded in one query (a pointer to a
    table that no longer exists is left out)."""
    return tables_by_uuid({s.base.extras.get('dg_labels', None) for s in structures} - {None})


def tables_by_uuid(uuids) -> dict[str, orm.ArrayData]:
    """The labels tables of ``uuids`` that exist, by UUID, loaded in one query."""
    if not uuids:
        return {}
    query = orm.QueryBuilder().append(orm.ArrayData, filters={'uuid': {'in': sorted(uuids)}})
    return {node.uuid: node for (node,) in query.iterall()}


def group_pointers(group: orm.Group) -> list[tuple[orm.StructureData, str | None, int | None, list[str]]]:
    """``(structure, labels table UUID, row, elements)`` of every ``StructureData`` of ``group``, in one query
    (reading the extras node by node would load each node again)."""
    query = orm.QueryBuilder().append(orm.Group, filters={'id': group.pk}, tag='group')
    projections = ['*', 'extras.dg_labels', 'extras.dg_labels_row', 'attributes.kinds']
    query.append(orm.StructureData, with_group='group', project=projections)
    return [
        (node, uuid, row, sorted({symbol for kind in kinds for symbol in kind['symbols']}))
        for node, uuid, row, kinds in query.iterall()
    ]


def labels_of(structures: list[orm.StructureData]) -> list[tuple[Labels | None, str | None]]:
    """Return ``(labels, engine)`` for each structure (``(None, None)`` where it has none), loading each table once."""
    pointers = [(s.base.extras.get('dg_labels', None), s.base.extras.get('dg_labels_row', None)) for s in structures]
    tables = {
        uuid: (labels_rows(node), node.base.attributes.get('engine', 'unknown')) for uuid, node in label_tables(structures).items()
    }
    result = []
    for uuid, row in pointers:
        if uuid in tables:
            rows, engine = tables[uuid]
            result.append((rows[row], engine))
        else:
            result.append((None, None))
    return result
