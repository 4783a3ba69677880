"""Cell geometry: minimum-image vectors and boxes around structures that are not periodic on every axis."""

from __future__ import annotations

import numpy as np
from ase import Atoms

__all__ = ('enclosing_cell', 'minimum_image')


def enclosing_cell(atoms: Atoms, margin: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(cell, positions)``: the periodic cell vectors kept, non-periodic ones replaced.

    Along non-periodic axes the cell becomes a box perpendicular to the periodic vectors that holds every
    atom with ``margin`` (A) to spare on both sides, so clusters without a cell work; positions are
    shifted into it. Right-handed.
    """
    positions = np.asarray(atoms.positions, dtype=float)
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if pbc.all():
        return np.array(atoms.cell[:], dtype=float), positions
    periodic = [np.array(atoms.cell[k], dtype=float) for k in range(3) if pbc[k]]
    if any(np.linalg.norm(vector) < 1e-8 for vector in periodic):
        raise ValueError('a periodic axis has a zero-length cell vector')
    basis = []  # orthonormal basis of the periodic span, then completed
    for vector in periodic + [np.eye(3)[k] for k in range(3)]:
        residual = vector - sum((vector @ b) * b for b in basis)
        if np.linalg.norm(residual) > 1e-6 and len(basis) < 3:
            basis.append(residual / np.linalg.norm(residual))
    free = basis[len(periodic) :]
    cell = np.zeros((3, 3))
    shift = np.zeros(3)
    for k in range(3):
        if pbc[k]:
            cell[k] = atoms.cell[k]
    for k, direction in zip(np.flatnonzero(~pbc), free):
        projection = positions @ direction
        cell[k] = direction * (projection.max() - projection.min() + 2 * margin)
        shift -= direction * (projection.min() - margin)
    if np.linalg.det(cell) < 0:
        k = np.flatnonzero(~pbc)[-1]
        cell[k] = -cell[k]
        shift += cell[k]
    return cell, positions + shift


def minimum_image(vectors: np.ndarray, cell: np.ndarray, pbc) -> np.ndarray:
    """Return ``(n, 3)`` displacement vectors reduced to their shortest periodic image (A)."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=float))
    periodic = np.asarray(pbc, dtype=bool)
    if not periodic.any():
        return vectors
    cell = np.asarray(cell, dtype=float)
    fractional = np.linalg.solve(cell.T, vectors.T).T
    fractional[:, periodic] -= np.round(fractional[:, periodic])
    reduced = fractional @ cell
    shifts = np.array(np.meshgrid(*[[-1, 0, 1] if p else [0] for p in periodic], indexing='ij')).reshape(3, -1).T
    candidates = reduced[:, None, :] + (shifts @ cell)[None]  # a skewed cell needs the neighbours checked
    best = np.argmin(np.linalg.norm(candidates, axis=2), axis=1)
    return candidates[np.arange(len(vectors)), best]
