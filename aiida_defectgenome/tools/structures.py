"""Conversions between ASE ``Atoms`` and AiiDA ``StructureData`` that scale to large datasets."""

from __future__ import annotations

from aiida import orm
from ase import Atoms

__all__ = ('structure_from_atoms',)


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
    structure.base.attributes.set(
        'sites', [{'kind_name': s, 'position': p} for s, p in zip(symbols, atoms.positions.tolist())]
    )
    return structure
