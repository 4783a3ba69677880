"""Fill the space around a frozen cluster with sites that continue its own, locally distorted crystal.

Sites grow from *rows*: three atoms ``k, j, i`` of one species with ``r_i - r_j`` close to ``r_j - r_k``
(within ``tolerance`` x the nearest-neighbour distance nn, steps no longer than ``reach`` x nn) lie on a
lattice row, which goes on at ``r_i + (r_i - r_k) / 2``. In any crystal, with or without a basis, only
lattice translations make rows (hcp's vectors between layers do not), so nothing assumes a lattice, and
each step follows the local strain and rotation: the displacement field of a dislocation, each grain of
a grain boundary, thermal noise averaged over two steps. Sites go only outside the frozen region and its
periodic images, at least ``min_distance_fraction`` x nn from every atom, and only where neither the site
nor an atom next to it would have more neighbours within ``SHELL`` x nn than the cluster's own atoms have
(``coordination``: fronts of two differently oriented grains would otherwise interleave); grown sites grow in turn,
breadth first from the cluster outwards, so the fronts meet halfway between the cluster and its images,
where the seam (and, around a dislocation, the defect that compensates its Burgers vector) forms. What
rows cannot reach (seams, a cluster with no crystal) is filled last, one atom at a time at the centre of
the largest empty sphere, while that sphere can hold an atom.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import deque

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

from ..structures.geometry import minimum_image

__all__ = ('CoreRegion', 'box_around', 'coordination', 'fill_holes', 'row_translations', 'seed_lattice')

ROW_REACH = 1.7  # x nn: first and second neighbours of bcc and fcc, hcp's c
ROW_TOLERANCE = 0.25  # x nn: thermal noise of a 1200 K snapshot passes, hcp's layer vectors do not
SHELL = 1.2  # x nn: the neighbour shell whose count caps the seeding (bcc 8 + 6, fcc and hcp 12)


@dataclasses.dataclass
class CoreRegion:
    """The frozen region: points closer than ``radius`` (A) to ``centre``, measured perpendicular to
    ``axes`` (``(k, 3)`` vectors along the periodic axes of the cluster, made orthonormal here)."""

    centre: np.ndarray
    radius: float
    axes: np.ndarray

    def __post_init__(self):
        self._trees = {}
        self.centre = np.asarray(self.centre, dtype=float)
        axes = np.asarray(self.axes, dtype=float).reshape(-1, 3)
        self.axes = np.linalg.qr(axes.T)[0].T if len(axes) else axes

    def _across(self, vectors: np.ndarray) -> np.ndarray:
        for axis in self.axes:
            vectors = vectors - np.outer(vectors @ axis, axis)
        return vectors

    def distance(self, points: np.ndarray, cell: np.ndarray | None = None) -> np.ndarray:
        """``(k,)`` distances (A) of ``points`` from the region's centre (line, plane); with a periodic
        ``cell`` (rows, A) from the nearest periodic image of it."""
        vectors = self._across(np.atleast_2d(points) - self.centre)
        if cell is None:
            return np.linalg.norm(vectors, axis=1)
        return self.images(cell).query(vectors)[0]

    def outside(self, points: np.ndarray, cell: np.ndarray | None = None) -> np.ndarray:
        return self.distance(points, cell) > self.radius

    def images(self, cell: np.ndarray) -> cKDTree:
        """A tree of the region's periodic images, as offsets across its axes: query it with
        ``_across(points - centre)`` for the distance to the nearest image."""
        key = np.asarray(cell, dtype=float).tobytes()
        if key not in self._trees:
            offsets = np.unique(np.round(self._across(image_shifts(cell, reach=2)), 9), axis=0)
            self._trees = {key: cKDTree(offsets)}
        return self._trees[key]


@functools.cache
def _image_steps(reach: int) -> np.ndarray:
    """``((2 reach + 1)^3, 3)`` integer steps ``m`` with every ``|m_i| <= reach``, by ``sum |m_i|``, zero first."""
    steps = sorted(itertools.product(range(-reach, reach + 1), repeat=3), key=lambda m: sum(map(abs, m)))
    return np.array(steps, dtype=float)


def image_shifts(cell: np.ndarray, reach: int = 1) -> np.ndarray:
    """``((2 reach + 1)^3, 3)`` lattice vectors ``m . cell`` with every ``|m_i| <= reach``, zero first."""
    return _image_steps(reach) @ np.asarray(cell, dtype=float)


def box_around(cluster: Atoms, region: CoreRegion, cell: np.ndarray) -> tuple[Atoms, np.ndarray]:
    """Return ``(box, translation)``: the cluster in the fully periodic ``cell`` (``(3, 3)`` rows, A,
    whose rows along the cluster's periodic axes must be the cluster's own), region centred. The
    positions are the cluster's plus ``translation`` (not wrapped); nothing moves along periodic axes."""
    cell = np.asarray(cell, dtype=float)
    for axis in np.flatnonzero(cluster.pbc):
        if not np.allclose(cell[axis], cluster.cell[axis], atol=1e-9):
            raise ValueError(f'axis {axis} is periodic in the cluster: its vector is the period and stays')
    if np.linalg.det(cell) <= 0:
        raise ValueError('the box is degenerate or left-handed')
    offset = cell.sum(axis=0) / 2 - region.centre
    for axis in np.flatnonzero(cluster.pbc):
        unit = cell[axis] / np.linalg.norm(cell[axis])
        offset -= (offset @ unit) * unit
    box = Atoms(numbers=cluster.numbers, positions=cluster.positions + offset, cell=cell, pbc=True)
    return box, offset


def row_translations(
    positions: np.ndarray, numbers: np.ndarray, nn: float, reach: float = ROW_REACH, tolerance: float = ROW_TOLERANCE
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(atom, vector)``: every row through an atom of a non-periodic ``(n, 3)`` set of positions,
    as the atom in the middle and the translation ``(r_i - r_k) / 2`` (A) from its row neighbour ``k`` to
    ``i``; each row appears once per direction."""
    tree = cKDTree(positions)
    pairs = tree.query_pairs(reach * nn, output_type='ndarray')
    pairs = pairs[numbers[pairs[:, 0]] == numbers[pairs[:, 1]]]
    middle = np.concatenate([pairs[:, 0], pairs[:, 1]])
    ends = np.concatenate([pairs[:, 1], pairs[:, 0]])
    # the row goes on through `middle` if an atom sits at middle - (end - middle)
    opposite = 2 * positions[middle] - positions[ends]
    distance, other = tree.query(opposite, distance_upper_bound=tolerance * nn)
    found = np.isfinite(distance)
    found[found] &= numbers[other[found]] == numbers[middle[found]]
    return middle[found], (positions[ends[found]] - positions[other[found]]) / 2


def coordination(positions: np.ndarray, nn: float) -> int:
    """One more than the most neighbours within ``SHELL`` x ``nn`` that an atom of a non-periodic ``(n, 3)``
    set of positions has: a crystal grown at its sites never reaches it, two grains grown into each other
    do. (Thermal noise moves atoms across the shell and atoms at a grain boundary or the surface have
    fewer, so the highest count, not the most common, is the crystal's.)"""
    tree = cKDTree(positions)
    return max(len(n) - 1 for n in tree.query_ball_point(positions, SHELL * nn)) + 1


def seed_lattice(
    box: Atoms,
    region: CoreRegion,
    nn: float,
    min_distance_fraction: float = 0.8,
    coordination: int | None = None,
    reach: float = ROW_REACH,
    tolerance: float = ROW_TOLERANCE,
) -> Atoms:
    """Return ``box`` (fully periodic) with sites grown along its rows, outside ``region`` (given in the
    box's frame) and its periodic images; new atoms follow the existing ones and take the species of
    the row they continue. Atoms are expanded in their order in ``box``, then the grown ones in turn.
    ``coordination``: the most neighbours within ``SHELL`` x nn a site or its neighbours may reach (None: no cap)."""
    cell = np.array(box.cell[:])
    shifts = image_shifts(cell, reach=1)
    limit = min_distance_fraction * nn
    positions = np.zeros((4 * len(box) + 64, 3))
    positions[: len(box)] = box.positions
    numbers = list(box.numbers)
    count = len(box)
    neighbours = _shell_counts(box.positions, cell, nn)
    queue = deque(range(len(box)))
    while queue:
        source = queue.popleft()
        sites = _row_ends(source, positions[:count], np.array(numbers), shifts, nn, reach, tolerance)
        if not len(sites):
            continue
        sites = _wrap(sites, cell)
        sites = sites[region.outside(sites, cell)]
        for site in sites[_clearance(sites, positions[:count], cell) >= limit]:
            gaps = np.linalg.norm(minimum_image(positions[:count] - site, cell, [True] * 3), axis=1)
            if gaps.min() < limit:  # an earlier site of this source took the place
                continue
            shell = np.flatnonzero(gaps < SHELL * nn)
            if coordination is not None and (len(shell) + 1 > coordination or np.any(neighbours[shell] + 1 > coordination)):
                continue
            if count == len(positions):
                positions = np.vstack([positions, np.zeros_like(positions)])
                neighbours = np.concatenate([neighbours, np.zeros(len(neighbours), dtype=int)])
            positions[count] = site
            neighbours[shell] += 1
            neighbours[count] = len(shell)
            numbers.append(numbers[source])
            queue.append(count)
            count += 1
    grown = Atoms(numbers=numbers, positions=positions[:count], cell=cell, pbc=True)
    grown.positions[: len(box)] = box.positions  # the cluster's atoms exactly as placed
    return grown


def _shell_counts(positions: np.ndarray, cell: np.ndarray, nn: float) -> np.ndarray:
    """``(4n + 64,)`` room for counts; the first n: neighbours within ``SHELL`` x nn of each atom (periodic)."""
    counts = np.zeros(4 * len(positions) + 64, dtype=int)
    images = (positions[None] + image_shifts(cell, reach=1)[:, None]).reshape(-1, 3)
    found = cKDTree(images).query_ball_point(positions, SHELL * nn)
    counts[: len(positions)] = [len(n) - 1 for n in found]
    return counts


def _row_ends(
    source: int, positions: np.ndarray, numbers: np.ndarray, shifts: np.ndarray, nn: float, reach: float, tolerance: float
) -> np.ndarray:
    """``(k, 3)`` sites continuing the rows that end at atom ``source`` (shortest steps first)."""
    vectors = (positions[None] - positions[source] + shifts[:, None]).reshape(-1, 3)
    species = np.tile(numbers, len(shifts)) == numbers[source]
    lengths = np.linalg.norm(vectors, axis=1)
    steps = vectors[species & (lengths > 1e-6) & (lengths <= reach * nn)]
    if not len(steps):
        return np.zeros((0, 3))
    behind = vectors[species & (lengths <= 2 * reach * nn + tolerance * nn)]
    # a row k, j, source: j at `step`, k near 2 x step; the site is source - (r_k - r_source) / 2
    gaps = np.linalg.norm(behind[None, :, :] - 2 * steps[:, None, :], axis=2)
    nearest = gaps.argmin(axis=1)
    rows = gaps[np.arange(len(steps)), nearest] < tolerance * nn
    order = np.argsort(np.linalg.norm(steps[rows], axis=1), kind='stable')
    return positions[source] - behind[nearest[rows]][order] / 2


def fill_holes(
    atoms: Atoms, region: CoreRegion, nn: float, min_distance_fraction: float = 0.8, count: int | None = None, spacing: float = 0.25
) -> Atoms:
    """Return ``atoms`` (fully periodic) with an atom added at the centre of the largest empty sphere
    outside ``region`` and its images, again and again while that sphere's radius is at least
    ``min_distance_fraction`` x nn and there are fewer than ``count`` atoms (filling a region without
    crystal one hole at a time would pack it denser than the material); added atoms take the species
    of their nearest neighbour. Grid of ``spacing`` (A)."""
    cell = np.array(atoms.cell[:])
    counts = np.maximum(np.ceil(atoms.cell.lengths() / spacing).astype(int), 1)
    grid = np.stack(np.meshgrid(*[np.arange(c) / c for c in counts], indexing='ij'), axis=-1).reshape(-1, 3) @ cell
    grid = grid[region.outside(grid, cell)]
    filled = atoms.copy()
    if not len(grid):
        return filled
    shifts = image_shifts(cell, reach=1)
    images = (atoms.positions[None] + shifts[:, None]).reshape(-1, 3)
    distance, nearest = cKDTree(images).query(grid)
    nearest = nearest % len(atoms)
    species = atoms.numbers[nearest]
    points = cKDTree(grid)
    while distance.max() >= min_distance_fraction * nn and (count is None or len(filled) < count):
        best = int(distance.argmax())
        site = grid[best]
        filled += Atoms(numbers=[species[best]], positions=[site])
        # only points nearer the new atom (an image of it) than the largest empty radius can come closer to it
        near = np.unique(np.concatenate(points.query_ball_point(site + shifts, distance[best] + 1e-9)).astype(int))
        gap = np.linalg.norm(minimum_image(grid[near] - site, cell, [True] * 3), axis=1)
        closer = near[gap < distance[near]]
        distance[closer], species[closer] = gap[gap < distance[near]], species[best]
    return filled


def _clearance(sites: np.ndarray, positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """``(k,)`` distance (A) from each of ``sites`` to the nearest of ``positions`` or their images."""
    sites = np.atleast_2d(sites)
    vectors = minimum_image((positions[None] - sites[:, None]).reshape(-1, 3), cell, [True] * 3)
    return np.linalg.norm(vectors, axis=1).reshape(len(sites), len(positions)).min(axis=1)


def _wrap(points: np.ndarray, cell: np.ndarray) -> np.ndarray:
    fractional = np.linalg.solve(cell.T, np.atleast_2d(points).T).T
    return (fractional % 1.0) @ cell
