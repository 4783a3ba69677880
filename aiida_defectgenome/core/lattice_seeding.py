"""Fill the space around a frozen cluster with lattice sites that continue the cluster's own crystal.

This is the first stage of our PCC-GCMC: instead of inserting atoms at random (the published procedure),
the cluster's crystal is grown outwards. The lattice translations are the short vectors between atoms
that map most atoms of the cluster onto atoms (for hcp the in-plane and c vectors, not the vectors
between layers); sites are grown from the outer atoms, step by translation, wrapped into the periodic
box, only outside the cut region (vacancies inside the cluster are part of its defect), and kept only
where no atom is closer than ``min_distance_fraction`` x the nearest-neighbour distance. Seams where
the grown crystal meets itself across the box are left to GCMC and minimisation.
Nothing here assumes an element or a lattice.
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

from .geometry import minimum_image

__all__ = ('CoreRegion', 'box_around', 'core_region', 'lattice_translations', 'seed_lattice')


@dataclasses.dataclass
class CoreRegion:
    """The cut region: points closer than ``radius`` (A) to ``centre``, measured perpendicular to
    ``axes`` (``(k, 3)`` vectors along the periodic axes of the cluster, made orthonormal here)."""

    centre: np.ndarray
    radius: float
    axes: np.ndarray

    def __post_init__(self):
        axes = np.asarray(self.axes, dtype=float).reshape(-1, 3)
        self.axes = np.linalg.qr(axes.T)[0].T if len(axes) else axes

    def distance(self, points: np.ndarray) -> np.ndarray:
        vectors = np.atleast_2d(points) - self.centre
        for axis in self.axes:
            vectors = vectors - np.outer(vectors @ axis, axis)
        return np.linalg.norm(vectors, axis=1)

    def outside(self, points: np.ndarray) -> np.ndarray:
        return self.distance(points) > self.radius


def core_region(cluster: Atoms, centre_index: int = 0, radius: float | None = None) -> CoreRegion:
    """Return the :class:`CoreRegion` of a cluster: around atom ``centre_index``, radius the cut radius
    (``info['cut_radius']``, else the farthest atom's distance)."""
    region = CoreRegion(cluster.positions[centre_index].copy(), 0.0, cluster.cell[np.flatnonzero(cluster.pbc)])
    region.radius = float(radius or cluster.info.get('cut_radius') or region.distance(cluster.positions).max())
    return region


def lattice_translations(
    cluster: Atoms, nn_distance: float, reach: float = 1.25, tolerance: float = 0.15, min_fraction: float = 0.6
) -> np.ndarray:
    """Return ``(k, 3)`` lattice translations of a cluster: vectors up to ``reach`` x ``nn_distance`` that
    map at least ``min_fraction`` of the atoms whose image stays inside the cluster onto an atom (within
    ``tolerance`` A). Periodic axes of the cluster are taken into account."""
    positions = cluster.positions
    shifts = [np.zeros(3)] + [sign * cluster.cell[k] for k in range(3) if cluster.pbc[k] for sign in (-1, 1)]
    images = np.vstack([positions + shift for shift in shifts])
    tree = cKDTree(images)
    pairs = cKDTree(positions).query_ball_tree(tree, reach * nn_distance)
    vectors = np.array([images[j] - positions[i] for i, near in enumerate(pairs) for j in near if j != i]).reshape(-1, 3)
    keys, inverse = np.unique(np.round(vectors / tolerance).astype(int), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse)
    common = np.flatnonzero(counts >= max(3, 0.1 * counts.max()))
    region = core_region(cluster)
    kept = []
    for key in common:
        vector = vectors[inverse == key].mean(axis=0)
        moved = positions + vector
        inside = region.distance(moved) < region.radius - tolerance
        if inside.sum() < 3:
            continue
        distances, _ = tree.query(moved[inside])
        if (distances < tolerance).mean() >= min_fraction:
            kept.append(vector)
    return np.array(kept).reshape(-1, 3)


def box_around(cluster: Atoms, region: CoreRegion, cell: np.ndarray) -> tuple[Atoms, np.ndarray]:
    """Return ``(box, translation)``: the cluster in the fully periodic ``cell`` (``(3, 3)`` rows, A,
    whose rows along the cluster's periodic axes must be the cluster's own), core centred. The core
    positions are the cluster's plus ``translation``; nothing moves along periodic axes."""
    cell = np.asarray(cell, dtype=float)
    for axis in np.flatnonzero(cluster.pbc):
        if not np.allclose(cell[axis], cluster.cell[axis], atol=1e-9):
            raise ValueError(f'axis {axis} is periodic in the cluster: its vector is the period and stays')
    if np.linalg.det(cell) <= 0:
        raise ValueError('the box is degenerate or left-handed')
    middle = cell.sum(axis=0) / 2
    offset = middle - region.centre
    for axis in np.flatnonzero(cluster.pbc):
        unit = cell[axis] / np.linalg.norm(cell[axis])
        offset -= (offset @ unit) * unit
    box = Atoms(numbers=cluster.numbers, positions=cluster.positions + offset, cell=cell, pbc=True)
    return box, offset


def seed_lattice(
    box: Atoms, region: CoreRegion, translations: np.ndarray, nn_distance: float, min_distance_fraction: float = 0.8
) -> Atoms:
    """Return ``box`` with lattice sites grown from its atoms outside ``region`` (the region given in the
    box's frame); new atoms follow the core atoms and take the species of the atom they grew from."""
    cell = np.array(box.cell[:])
    positions = list(box.positions)
    numbers = list(box.numbers)
    limit = min_distance_fraction * nn_distance
    frontier = deque(i for i in range(len(box)) if region.distance(box.positions[i : i + 1])[0] > region.radius - 2 * nn_distance)
    while frontier:
        source = frontier.popleft()
        candidates = positions[source] + translations
        candidates = candidates[region.outside(_nearest_image(candidates, region.centre, cell))]
        for site in candidates:
            existing = np.array(positions)
            distances = np.linalg.norm(minimum_image(existing - site, cell, [True] * 3), axis=1)
            if distances.min() >= limit:
                positions.append(_wrap(site, cell))
                numbers.append(numbers[source])
                frontier.append(len(positions) - 1)
    grown = Atoms(numbers=numbers, positions=np.array(positions), cell=cell, pbc=True)
    grown.positions[: len(box)] = box.positions  # core atoms exactly as placed
    return grown


def _wrap(point: np.ndarray, cell: np.ndarray) -> np.ndarray:
    fractional = np.linalg.solve(cell.T, point)
    return (fractional % 1.0) @ cell


def _nearest_image(points: np.ndarray, reference: np.ndarray, cell: np.ndarray) -> np.ndarray:
    return reference + minimum_image(points - reference, cell, [True] * 3)
