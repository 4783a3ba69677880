"""Validity of a periodic cell built around a frozen cluster (PCC-GCMC candidates).

A candidate is valid when its core atoms are exactly where they were placed, no pair is closer than a
fraction of the nearest-neighbour distance, no pocket of vacuum is left outside the core region, and the
atom count fits the DFT budget. :func:`cell_problems` names every failed check; an empty list is valid.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from ..structures.geometry import minimum_image

__all__ = ('DEFAULT_MAX_ATOMS', 'cell_problems', 'largest_empty_sphere', 'nearest_neighbour_distance')

DEFAULT_MAX_ATOMS = 150  # the authors' DFT budget per cell


def nearest_neighbour_distance(positions: np.ndarray) -> float:
    """Return the nearest-neighbour distance (A) of ``(n, 3)`` non-periodic positions: the peak of the
    first shell of pair distances. (The median of each atom's nearest distance would be biased low in
    a thermal snapshot: the nearest of a dozen vibrating neighbours is closer than the shell.)"""
    from scipy.spatial import cKDTree

    tree = cKDTree(positions)
    nearest = float(np.median(tree.query(positions, k=2)[0][:, 1]))
    pairs = tree.query_pairs(1.25 * nearest, output_type='ndarray')
    distances = np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1)
    grid = np.linspace(0.8 * nearest, 1.25 * nearest, 91)
    width = 0.03 * nearest  # smooths the histogram into a density of pair distances
    density = np.exp(-(((grid[:, None] - distances[None]) / width) ** 2) / 2).sum(axis=1)
    return float(grid[density.argmax()])


def _pair_distances(atoms: Atoms) -> np.ndarray:
    """``(n, n)`` minimum-image distances (cells here hold a few hundred atoms)."""
    vectors = atoms.positions[None, :, :] - atoms.positions[:, None, :]
    reduced = minimum_image(vectors.reshape(-1, 3), atoms.cell[:], atoms.pbc)
    return np.linalg.norm(reduced, axis=1).reshape(len(atoms), len(atoms))


def largest_empty_sphere(atoms: Atoms, outside, spacing: float = 0.25) -> float:
    """Return the radius (A) of the largest atom-free sphere centred on a grid point where ``outside``
    (a function of ``(k, 3)`` points -> bool) is true; 0 when no grid point qualifies."""
    from scipy.spatial import cKDTree

    cell = np.array(atoms.cell[:])
    counts = np.maximum(np.ceil(atoms.cell.lengths() / spacing).astype(int), 1)
    grid = np.stack(np.meshgrid(*[np.arange(c) / c for c in counts], indexing='ij'), axis=-1).reshape(-1, 3) @ cell
    grid = grid[outside(grid)]
    if not len(grid):
        return 0.0
    shifts = np.array(np.meshgrid(*[[-1, 0, 1]] * 3, indexing='ij')).reshape(3, -1).T @ cell
    images = (atoms.positions[None] + shifts[:, None]).reshape(-1, 3)
    distances, _ = cKDTree(images).query(grid)
    return float(distances.max())


def cell_problems(
    cell: Atoms,
    core_positions: np.ndarray,
    nn_distance: float,
    outside,
    min_distance_fraction: float = 0.75,
    max_empty_fraction: float = 0.8,
    max_atoms: int = DEFAULT_MAX_ATOMS,
) -> list[str]:
    """Return what is wrong with ``cell`` (empty list: valid).

    :param core_positions: ``(n_core, 3)`` where the core atoms (the first ``n_core`` of ``cell``) must be.
    :param nn_distance: nearest-neighbour distance of the cluster's crystal (A).
    :param outside: function of ``(k, 3)`` points -> bool, true outside the core region.
    :param max_empty_fraction: largest allowed empty sphere outside the core, in units of ``nn_distance``
        (bcc's interstitial holes are 0.65; a vacancy is 1.0).
    """
    problems = []
    core = len(core_positions)
    if len(cell) > max_atoms:
        problems.append(f'{len(cell)} atoms, more than the maximum {max_atoms}')
    if len(cell) < core or not np.array_equal(cell.positions[:core], core_positions):
        problems.append('core atoms moved')
    distances = _pair_distances(cell)
    np.fill_diagonal(distances, np.inf)
    closest = float(distances.min()) if len(cell) > 1 else np.inf
    if closest < min_distance_fraction * nn_distance:
        problems.append(f'closest pair {closest:.2f} A, below {min_distance_fraction} x {nn_distance:.2f} A')
    empty = largest_empty_sphere(cell, outside)
    if empty > max_empty_fraction * nn_distance:
        problems.append(f'vacuum pocket: empty sphere of radius {empty:.2f} A outside the core')
    return problems
