"""LAMMPS' frame: a cell as LAMMPS' restricted triclinic box, and fractional coordinates in a cell."""

from __future__ import annotations

import numpy as np

__all__ = ('fractional_in_cell', 'lammps_frame')


def lammps_frame(cell) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(lammps_cell, rotation)`` for a cell given as rows ``(3, 3)`` in A.

    ``lammps_cell`` is lower triangular with a positive diagonal (LAMMPS' restricted triclinic box) and
    ``cell @ rotation == lammps_cell``; positions map the same way and vectors go back with ``rotation.T``.
    """
    cell = np.asarray(cell, dtype=float)
    if abs(np.linalg.det(cell)) < 1e-8:
        raise ValueError('the cell has no volume: give a 3D cell (also along non-periodic axes)')
    if np.linalg.det(cell) < 0:
        raise ValueError('the cell is left-handed: LAMMPS needs a right-handed cell (swap two cell vectors)')
    q, r = np.linalg.qr(cell.T)
    signs = np.sign(np.diag(r))
    q = q * signs
    lammps_cell = (r * signs[:, None]).T
    lammps_cell[np.triu_indices(3, 1)] = 0.0
    return lammps_cell, q


def fractional_in_cell(positions, cell, pbc) -> np.ndarray:
    """Return ``(n, 3)`` fractional coordinates, wrapped into [0, 1) along periodic axes.

    :raises ValueError: if the cell has no volume, is left-handed, or an atom lies outside it along a
        non-periodic axis.
    """
    lammps_frame(cell)
    fractional = np.linalg.solve(np.asarray(cell, dtype=float).T, np.asarray(positions, dtype=float).reshape(-1, 3).T).T
    periodic = np.asarray(pbc, dtype=bool)
    fractional[:, periodic] %= 1.0
    fractional[:, periodic] = np.where(fractional[:, periodic] > 1.0 - 1e-12, 0.0, fractional[:, periodic])  # -1e-17 % 1
    outside = (fractional[:, ~periodic] < -1e-9) | (fractional[:, ~periodic] >= 1.0 + 1e-9)
    if outside.any():
        raise ValueError('atoms lie outside the cell along a non-periodic axis: enlarge the cell to contain them')
    return fractional
