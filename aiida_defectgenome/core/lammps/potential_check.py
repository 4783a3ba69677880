"""Check, before a potential is stored, that LAMMPS can use it: a crystal of each species gets a finite energy."""

from __future__ import annotations

import math

from ase import Atoms
from ase.build import bulk
from ase.data import atomic_numbers, covalent_radii

from .local import LammpsRunError, run_lammps
from .potentials import PotentialError, PotentialSpec

__all__ = ('check_potential', 'probe_crystal')


def probe_crystal(symbol: str) -> Atoms:
    """Return a small periodic crystal of ``symbol``: ASE's reference structure of the element (experimental
    lattice constant, conventional cell, at least 8 atoms), or fcc at touching covalent spheres where ASE has
    no crystal for it."""
    try:
        atoms = bulk(symbol, cubic=True)
    except (ValueError, RuntimeError, KeyError):
        try:
            atoms = bulk(symbol)
        except (ValueError, RuntimeError, KeyError):
            atoms = bulk(symbol, 'fcc', a=2 * math.sqrt(2) * covalent_radii[atomic_numbers[symbol]], cubic=True)
    repeat = max(1, math.ceil((8 / len(atoms)) ** (1 / 3)))
    return atoms * (repeat, repeat, repeat)


def check_potential(spec: PotentialSpec) -> dict[str, float]:
    """Return the energy per atom (eV) LAMMPS gives :func:`probe_crystal` of each species of ``spec``.

    :raises PotentialError: with LAMMPS's own message where it refuses the pair style, the coefficients or the
        files, or where an energy is not finite.
    """
    energies = {}
    for symbol in spec.species:
        atoms = probe_crystal(symbol)
        try:
            result = run_lammps(atoms, spec, {'stages': []})
        except LammpsRunError as exc:
            raise PotentialError(f'LAMMPS cannot use potential `{spec.name}`: {exc}') from exc
        energy = result['final']['energy'] / len(atoms)
        if not math.isfinite(energy):
            raise PotentialError(f'potential `{spec.name}` gives a {symbol} crystal a non-finite energy ({energy} eV/atom)')
        energies[symbol] = energy
    return energies
