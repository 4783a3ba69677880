"""Lattice constant of a cubic crystal from DFT energies: energy-volume fit (Birch-Murnaghan, ASE's EOS)."""

from __future__ import annotations

import numpy as np

__all__ = ('cubic_lattice_constant',)


def cubic_lattice_constant(lattice_constants, energies, atoms_per_cell: int) -> dict:
    """Fit E(V) of cubic cells with lattice constants ``lattice_constants`` (A) and total energies
    ``energies`` (eV); return ``a0`` (A), ``bulk_modulus`` (GPa), ``e0_per_atom`` (eV) and ``v0_per_atom`` (A^3)."""
    from ase.eos import EquationOfState
    from ase.units import GPa

    volumes = np.asarray(lattice_constants, dtype=float) ** 3
    v0, e0, b = EquationOfState(volumes, np.asarray(energies, dtype=float), eos='birchmurnaghan').fit()
    return {
        'a0': float(v0 ** (1 / 3)),
        'bulk_modulus': float(b / GPa),
        'e0_per_atom': float(e0 / atoms_per_cell),
        'v0_per_atom': float(v0 / atoms_per_cell),
    }
