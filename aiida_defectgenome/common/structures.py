"""Conversions between ASE ``Atoms`` and AiiDA ``StructureData`` that scale to large datasets."""

from __future__ import annotations

import numpy as np
from aiida import orm
from ase import Atoms

from ..core.structures.datasets import DatasetError

__all__ = ('atoms_from_structure', 'group_elements', 'structure_from_atoms')


def structure_from_atoms(atoms: Atoms) -> orm.StructureData:
    """Return an unstored ``StructureData`` with one kind per element.

    Same result as ``StructureData(ase=atoms)`` for untagged atoms, but the sites are set in one go
    instead of one validated ``append_atom`` each (15 ms against 0.5 ms for 70 atoms).
    """
    structure = orm.StructureData(cell=atoms.cell.array.tolist(), pbc=[bool(p) for p in atoms.pbc])
    symbols = atoms.get_chemical_symbols()
    masses = dict(zip(symbols, atoms.get_masses().tolist()))
    for symbol, mass in masses.items():
        structure.append_kind(orm.Kind(symbols=symbol, mass=mass, name=symbol))
    structure.base.attributes.set('sites', [{'kind_name': s, 'position': p} for s, p in zip(symbols, atoms.positions.tolist())])
    return structure


def atoms_from_structure(structure: orm.StructureData) -> Atoms:
    """Return the ``Atoms`` of a structure with one element per kind (as :func:`structure_from_atoms` makes).

    :raises ValueError: for kinds that mix elements or hold vacancies (alloy sites have no single species).
    """
    kinds = {}
    for kind in structure.base.attributes.get('kinds'):
        if len(kind['symbols']) != 1 or abs(sum(kind['weights']) - 1.0) > 1e-8:
            raise ValueError(f'structure {structure.pk}: kind {kind["name"]} is not a single element')
        kinds[kind['name']] = (kind['symbols'][0], kind['mass'])
    sites = structure.base.attributes.get('sites')
    symbols = [kinds[site['kind_name']][0] for site in sites]
    atoms = Atoms(
        symbols=symbols,
        positions=np.array([site['position'] for site in sites], dtype=float).reshape(-1, 3),
        cell=structure.base.attributes.get('cell'),
        pbc=[structure.base.attributes.get(f'pbc{k}') for k in (1, 2, 3)],
    )
    atoms.set_masses([kinds[site['kind_name']][1] for site in sites])
    return atoms


def group_elements(label: str) -> set[str]:
    """Return the elements of the structures in group ``label`` (one query on their kinds).

    :raises DatasetError: if there is no group ``label``.
    """
    if not orm.QueryBuilder().append(orm.Group, filters={'label': label}).count():
        raise DatasetError(f'`{label}` is neither a file nor a group')
    query = orm.QueryBuilder().append(orm.Group, filters={'label': label}, tag='group')
    query.append(orm.StructureData, with_group='group', project='attributes.kinds')
    return {symbol for (kinds,) in query.iterall() for kind in kinds or () for symbol in kind['symbols']}
