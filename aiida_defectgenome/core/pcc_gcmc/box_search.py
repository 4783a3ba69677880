"""Periodic boxes for a frozen region: its images may not overlap it, and the box fits the atom budget.

A box is kept when every periodic image of a frozen atom lies outside the frozen region (so the central
atom's environment holds exactly the cluster's atoms), no frozen atom comes closer than a fraction of
the nearest-neighbour distance (the closest pair allowed in a cell, plus ``IMAGE_MARGIN``: frozen atoms
cannot move apart when the box relaxes) to an image of another one, and its estimated atom count fits
``max_atoms``. Where the cluster is one crystal (its rows, :func:`.lattice_seeding.row_translations`,
span one lattice), the open cell vectors are lattice vectors of it: the crystal seeded around the cluster
then meets its own image without a seam. An aligned frame (the shortest mutually orthogonal lattice
vectors, orthogonal to the cluster's periodic axes) gives vectors ``n e_i`` and sheared ones
``n e_i + m e_j / 2`` where those are lattice vectors, so that images can pack like bcc or fcc. A cluster
with no single crystal (a grain boundary), or whose lattice boxes all exceed the budget, gets boxes
along its own axes, 0.5 A apart in length, plain and sheared; those are marked not commensurate. The
largest boxes come first. Nothing assumes an element or a lattice type.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

from .lattice_seeding import CoreRegion, image_shifts, row_translations

__all__ = ('BoxCandidate', 'ImpossibleBox', 'candidate_boxes', 'cluster_lattice', 'lattice_basis')

_ORTHOGONAL = 0.05  # |cos| below which two lattice vectors count as orthogonal
IMAGE_MARGIN = 0.1  # x nn beyond the closest pair allowed, between a frozen atom and an image of one
_ENOUGH = 100  # boxes of one kind to offer (seeding may find some over the budget) ...
_PER_SIZE = 2  # ... at most this many of each estimated size, so that smaller ones are offered too


class ImpossibleBox(ValueError):
    """No periodic box holds the cluster within the limits; the message says why and what would fit."""


@dataclasses.dataclass
class BoxCandidate:
    """A periodic box for the cluster: ``cell`` ``(3, 3)`` rows in A (periodic axes of the cluster as
    they were), ``estimated_atoms`` from the crystal's atomic volume, ``closest_image`` the smallest
    distance (A) between a frozen atom and an image of a frozen atom, ``commensurate`` whether the open
    vectors are lattice vectors of the cluster's crystal."""

    cell: np.ndarray
    estimated_atoms: int
    closest_image: float
    commensurate: bool

    @property
    def lengths(self) -> list[float]:
        return np.linalg.norm(self.cell, axis=1).round(4).tolist()


def lattice_basis(translations: np.ndarray, families: np.ndarray, tolerance: float = 0.15) -> tuple[np.ndarray | None, float]:
    """Return ``(basis, agreement)``: the ``(3, 3)`` basis (rows, A) among triples of the ``families``
    (``(k, 3)``, most common first) that makes the largest share of ``translations`` integer combinations
    of it (within ``tolerance``; the smallest cell among equals), refined by least squares against those,
    and that share; ``(None, 0)`` when no triple spans 3D."""
    candidates = families[:12]  # the most common rows are the lattice's; rare ones are distortions
    floor = 0.2 * np.min(np.linalg.norm(candidates, axis=1)) ** 3  # nearly coplanar triples are noise
    best, key = None, (-1.0, 0.0)
    for triple in itertools.combinations(range(len(candidates)), 3):
        rows = candidates[list(triple)]
        volume = abs(np.linalg.det(rows))
        if volume < floor:
            continue
        coefficients = np.linalg.solve(rows.T, translations.T).T
        agreement = float(np.mean(np.abs(coefficients - np.round(coefficients)).max(axis=1) < tolerance))
        if (round(agreement, 3), -volume) > key:
            best, key = rows, (round(agreement, 3), -volume)
    if best is None:
        return None, 0.0
    coefficients = np.linalg.solve(best.T, translations.T).T
    agree = np.abs(coefficients - np.round(coefficients)).max(axis=1) < tolerance
    refined = np.linalg.lstsq(np.round(coefficients[agree]), translations[agree], rcond=None)[0]
    return refined, key[0]


def cluster_lattice(cluster: Atoms, nn: float, region: CoreRegion, agreement: float = 0.8) -> np.ndarray | None:
    """Return the lattice basis (``(3, 3)`` rows, A) of the cluster's crystal, from its rows (periodic axes
    included) through atoms beyond 1 A inside the frozen ``region`` (the far field the box continues; all
    rows when those are fewer than 100), or ``None`` when fewer than ``agreement`` of those rows are vectors
    of one lattice (two grains, no crystal)."""
    positions, numbers = cluster.positions, cluster.numbers
    for vector in [cluster.cell[k] for k in range(3) if cluster.pbc[k]]:  # rows across the period
        positions = np.vstack([positions - vector, positions, positions + vector])
        numbers = np.tile(numbers, 3)
    middle, vectors = row_translations(positions, numbers, nn)
    outer = region.distance(positions[middle]) >= region.radius - 1.0
    if outer.sum() >= 100:
        vectors = vectors[outer]
    families = _families(vectors, 0.25 * nn)
    if len(families) < 3:
        return None
    basis, share = lattice_basis(vectors, families)
    return basis if share >= agreement else None


def _families(vectors: np.ndarray, tolerance: float, share: float = 0.1) -> np.ndarray:
    """``(k, 3)`` means of the groups of ``vectors`` closer than ``tolerance`` (A) to each other that
    hold at least ``share`` of the largest group, largest groups first."""
    if not len(vectors):
        return np.zeros((0, 3))
    tree = cKDTree(vectors)
    unassigned = np.ones(len(vectors), dtype=bool)
    means, sizes = [], []
    counts = np.array([len(n) for n in tree.query_ball_point(vectors, tolerance)])
    for seed in np.argsort(-counts, kind='stable'):
        if not unassigned[seed]:
            continue
        members = [m for m in tree.query_ball_point(vectors[seed], tolerance) if unassigned[m]]
        unassigned[members] = False
        means.append(vectors[members].mean(axis=0))
        sizes.append(len(members))
    sizes = np.array(sizes)
    keep = sizes >= share * sizes.max()
    return np.array(means)[keep]


def _lattice_points(basis: np.ndarray, radius: float) -> np.ndarray:
    """Return ``(k, 3)`` non-zero lattice vectors no longer than ``radius`` (A), shortest first."""
    reach = min(int(np.ceil(radius / _shortest_spacing(basis))) + 1, 12)
    grid = np.arange(-reach, reach + 1)
    integers = np.array(np.meshgrid(grid, grid, grid, indexing='ij')).reshape(3, -1).T
    points = integers @ basis
    lengths = np.linalg.norm(points, axis=1)
    keep = (lengths > 1e-6) & (lengths <= radius)
    order = np.argsort(lengths[keep], kind='stable')
    return points[keep][order]


def _shortest_spacing(basis: np.ndarray) -> float:
    volume = abs(np.linalg.det(basis))
    return min(volume / np.linalg.norm(np.cross(basis[(k + 1) % 3], basis[(k + 2) % 3])) for k in range(3))


def _is_lattice_vector(vector: np.ndarray, basis: np.ndarray, tolerance: float = 0.02) -> bool:
    coefficients = np.linalg.solve(basis.T, vector)
    return bool(np.all(np.abs(coefficients - np.round(coefficients)) < tolerance))


def aligned_frame(basis: np.ndarray, fixed: list[np.ndarray], reach: float) -> list[np.ndarray] | None:
    """Return ``3 - len(fixed)`` mutually orthogonal lattice vectors, orthogonal to ``fixed`` (the
    cluster's periodic cell vectors), of smallest product of lengths; ``None`` if none within ``reach`` A."""
    points = _lattice_points(basis, reach)
    units = points / np.linalg.norm(points, axis=1)[:, None]
    allowed = np.ones(len(points), dtype=bool)
    for vector in fixed:
        allowed &= np.abs(units @ (vector / np.linalg.norm(vector))) < _ORTHOGONAL
    points, units = points[allowed][:60], units[allowed][:60]  # the shortest ones are enough
    need = 3 - len(fixed)
    best, score = None, np.inf
    for combo in itertools.combinations(range(len(points)), need):
        if need > 1 and any(abs(units[i] @ units[j]) >= _ORTHOGONAL for i, j in itertools.combinations(combo, 2)):
            continue
        product = float(np.prod(np.linalg.norm(points[list(combo)], axis=1)))
        if product < score - 1e-9:
            best, score = [points[i] for i in combo], product
    return best


def candidate_boxes(
    cluster: Atoms,
    n_core: int,
    region: CoreRegion,
    basis: np.ndarray | None,
    nn_distance: float,
    atomic_volume: float,
    max_atoms: int,
    min_distance_fraction: float = 0.75,
    min_radius: float = 0.0,
) -> list[BoxCandidate]:
    """Return the boxes for ``cluster`` (its first ``n_core`` atoms frozen) within ``max_atoms``, largest
    first: lattice boxes when ``basis`` is given, then boxes along the cluster's own axes.

    :raises ImpossibleBox: when no box holds the frozen region within ``max_atoms`` atoms; the message names a
        smaller core radius that would fit only where it is at least ``min_radius`` (A, the descriptor's cutoff).
    """
    open_axes = [k for k in range(3) if not cluster.pbc[k]]
    if not open_axes:
        raise ImpossibleBox('the cluster is periodic along all three axes: there is no open space to fill')
    search = (cluster, n_core, region, basis, nn_distance, atomic_volume)
    clearance = (min_distance_fraction + IMAGE_MARGIN) * nn_distance
    boxes = _search(*search, max_atoms, clearance)
    if boxes:
        return boxes
    needed, larger = max_atoms, []
    while not larger and needed < 4 * max_atoms:  # what would fit: budgets 10 % apart, up to four times this one
        needed = int(np.ceil(needed * 1.1))
        larger = _search(*search, needed, clearance)
    if not larger:
        raise ImpossibleBox(
            f'the frozen region (radius {region.radius:.2f} A, {n_core} atoms) fits no periodic cell of up to '
            f'{needed} atoms (its images {clearance:.2f} A apart): freeze a smaller region'
        )
    # the frozen atoms' reach, plus half the clearance, scaled to the budget (sphere: cube root; cylinder: square root)
    reach = float(region.distance(cluster.positions[:n_core]).max()) + clearance / 2
    dimensions = 3 - int(np.sum(cluster.pbc))
    radius = np.floor(10 * (reach * (max_atoms / needed) ** (1 / dimensions) - clearance / 2)) / 10
    smaller = (
        f', or freeze a smaller region (core radius {radius:.1f} A or less fits about {max_atoms} atoms)'
        if radius >= min_radius
        else f' (no smaller core fits: about {radius:.1f} A would be below the descriptor cutoff, {min_radius:g} A)'
    )
    raise ImpossibleBox(
        f'the frozen region (radius {region.radius:.2f} A, {n_core} atoms) needs a periodic cell of {needed} atoms '
        f'or more (its images {clearance:.2f} A apart), more than max_atoms {max_atoms}: raise max_atoms to {needed}{smaller}'
    )


def _search(cluster, n_core, region, basis, nn_distance, atomic_volume, max_atoms, clearance) -> list[BoxCandidate]:
    """Boxes of at most ``max_atoms`` atoms whose frozen atoms' images stay ``clearance`` (A) apart, largest first."""
    open_axes = [k for k in range(3) if not cluster.pbc[k]]
    fixed = np.array([cluster.cell[k] for k in range(3) if cluster.pbc[k]], dtype=float).reshape(-1, 3)
    span = 2 * region.radius
    core = cluster.positions[:n_core]
    # frozen atoms cannot move apart, and the box may shrink as it relaxes
    limits = (_FrozenImages(core, region), max_atoms, clearance)
    boxes = []
    frame = aligned_frame(basis, list(fixed), reach=6 * nn_distance) if basis is not None else None
    if frame is not None:
        options = [_open_vector_options(i, np.array(frame), basis, span) for i in range(len(frame))]
        boxes = _fitting_boxes(cluster, fixed, options, atomic_volume, limits, commensurate=True)
        if len(frame) == 3:  # spheres pack densest like fcc or bcc: lattice cells near those packings
            boxes = _merge(boxes, _packed_boxes(cluster, np.array(frame), basis, span, atomic_volume, limits))
    options = [_grid_options(cluster, k, open_axes, span) for k in open_axes]
    return boxes + _fitting_boxes(cluster, fixed, options, atomic_volume, limits, commensurate=False)


#: Cells (rows, in units of the nearest image distance) that pack spheres like sc, bcc and fcc.
_PACKINGS = {
    'sc': np.eye(3),
    'bcc': np.array([[-1, 1, 1], [1, -1, 1], [1, 1, -1]]) / np.sqrt(3),
    'fcc': np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]) / np.sqrt(2),
}


def _packed_boxes(cluster, frame, basis, span, atomic_volume, limits) -> list[BoxCandidate]:
    """Boxes of three open lattice vectors: each packing of :data:`_PACKINGS` at image distances from
    ``span`` to ``span`` + 3 A along the ``frame`` axes, every vector rounded to the nearest lattice vector."""
    images, max_atoms, closest_allowed = limits
    axes = frame / np.linalg.norm(frame, axis=1)[:, None]
    cells = []
    for packing in _PACKINGS.values():
        for distance in np.arange(span, span + 3.0 + 1e-9, 0.25):
            ideal = distance * packing @ axes
            integers = np.round(np.linalg.solve(basis.T, ideal.T).T)
            cell = integers @ basis
            if np.linalg.det(cell) < 0:
                cell = cell[[1, 0, 2]]
            cells.append(cell)
    boxes = []
    for cell in np.unique(np.round(cells, 9), axis=0):
        atoms = int(round(abs(np.linalg.det(cell)) / atomic_volume))
        if not images.count <= atoms <= max_atoms:
            continue
        cell = _reduced(cell, [0, 1, 2])
        if images.region_clear(cell) and (closest := images.closest(cell)) >= closest_allowed:
            boxes.append(BoxCandidate(cell, atoms, closest, True))
    return boxes


def _merge(first: list[BoxCandidate], second: list[BoxCandidate]) -> list[BoxCandidate]:
    """The boxes of both lists, largest first, without repeats (same size and lengths)."""
    merged = []
    for box in sorted(first + second, key=lambda b: -b.estimated_atoms):
        if not any(
            box.estimated_atoms == other.estimated_atoms and np.allclose(sorted(box.lengths), sorted(other.lengths), atol=1e-3)
            for other in merged
        ):
            merged.append(box)
    return merged


def _fitting_boxes(
    cluster: Atoms, fixed: np.ndarray, options: list[np.ndarray], atomic_volume: float, limits, commensurate
) -> list[BoxCandidate]:
    """Build every cell from the open-vector ``options``; return the distinct ones that hold the frozen
    region (``limits``: the frozen images, max_atoms, closest image A), largest first."""
    images, max_atoms, closest_allowed = limits
    open_axes = [k for k in range(3) if not cluster.pbc[k]]
    fixed_axes = [k for k in range(3) if cluster.pbc[k]]
    cells = np.zeros((int(np.prod([len(o) for o in options])), 3, 3))
    cells[:, fixed_axes] = fixed
    for slot, grid in zip(open_axes, np.meshgrid(*[np.arange(len(o)) for o in options], indexing='ij')):
        cells[:, slot] = options[open_axes.index(slot)][grid.ravel()]
    volumes = np.linalg.det(cells)
    cells[volumes < 0, open_axes[-1]] *= -1  # right-handed
    atoms = np.round(np.abs(volumes) / atomic_volume).astype(int)
    plausible = np.flatnonzero((np.abs(volumes) > 1e-6) & (atoms >= images.count) & (atoms <= max_atoms))
    boxes, per_size = [], {}
    for index in plausible[np.argsort(-atoms[plausible], kind='stable')]:
        if len(boxes) == _ENOUGH or per_size.get(atoms[index], 0) == _PER_SIZE:
            continue
        cell = _reduced(cells[index], open_axes)
        if not images.region_clear(cell):
            continue
        closest = images.closest(cell)
        if closest < closest_allowed:
            continue
        box = BoxCandidate(cell, int(atoms[index]), closest, commensurate)
        if not any(
            box.estimated_atoms == other.estimated_atoms and np.allclose(sorted(box.lengths), sorted(other.lengths), atol=1e-3)
            for other in boxes
        ):
            boxes.append(box)
            per_size[atoms[index]] = per_size.get(atoms[index], 0) + 1
    return boxes


class _FrozenImages:
    """The frozen atoms (``core`` ``(n, 3)`` A) and their periodic images in candidate cells, one k-d tree query
    per lattice shift instead of one distance per image: the image of atom ``a`` by shift ``s`` lies at
    ``|a' + s'|`` from the region's centre (line; ``'``: across its axes), and at ``|s - (r_i - r_j)|`` from atom ``i``."""

    def __init__(self, core: np.ndarray, region: CoreRegion):
        self.region, self.count = region, len(core)
        self._offsets = cKDTree(-region._across(core - region.centre))
        self._pairs = cKDTree((core[:, None] - core[None]).reshape(-1, 3))  # i == j included

    def region_clear(self, cell: np.ndarray) -> bool:
        """Whether every image of every frozen atom across an open axis lies outside the frozen region."""
        shifts = self.region._across(image_shifts(cell, reach=2)[1:])
        shifts = shifts[np.linalg.norm(shifts, axis=1) > 1e-6]  # images along the line are the cluster's own atoms
        return bool(self._offsets.query(shifts)[0].min() > self.region.radius)

    def closest(self, cell: np.ndarray) -> float:
        """Smallest distance (A) between a frozen atom and a periodic image of a frozen atom (``cell`` reduced)."""
        return float(self._pairs.query(image_shifts(cell, reach=2)[1:])[0].min())


def _reduced(cell: np.ndarray, open_axes: list[int]) -> np.ndarray:
    """Return ``cell`` with each open vector shortened by whole multiples of the others (same lattice)."""
    cell = cell.copy()
    changed = True
    while changed:
        changed = False
        for i, j in itertools.permutations(range(3), 2):
            if i not in open_axes:
                continue
            step = np.round(cell[i] @ cell[j] / (cell[j] @ cell[j]))
            if step and np.linalg.norm(cell[i] - step * cell[j]) < np.linalg.norm(cell[i]) - 1e-9:
                cell[i] = cell[i] - step * cell[j]
                changed = True
    return cell


def _grid_options(cluster: Atoms, axis: int, open_axes: list[int], span: float) -> np.ndarray:
    """``(k, 3)`` choices for open vector ``axis`` along the cluster's own directions: a component 0.5 A
    apart from 0.7 ``span`` (images of a sheared box may sit that close across) to ``span`` + 4 A, plus no
    shear or half the span along each later open direction (bcc- and fcc-like packings of images)."""
    directions = {k: np.asarray(cluster.cell[k], dtype=float) / np.linalg.norm(cluster.cell[k]) for k in open_axes}
    lengths = np.arange(np.ceil(1.4 * span) / 2, span + {1: 16.0, 2: 8.0, 3: 4.0}[len(open_axes)] + 1e-9, 0.5)
    later = [k for k in open_axes if k > axis]
    shears = [
        sum((c * span / 2 * directions[k] for c, k in zip(combo, later)), np.zeros(3))
        for combo in itertools.product((0, 1, -1), repeat=len(later))
    ]
    return np.array([length * directions[axis] + shear for length in lengths for shear in shears])


def _open_vector_options(i: int, frame: np.ndarray, basis: np.ndarray, span: float) -> np.ndarray:
    """``(k, 3)`` choices for open box vector ``i``: ``c_i e_i + sum_j c_j e_j`` with ``c_i`` from just
    under ``span / |e_i|`` up, and shears ``c_j`` in halves, kept where they are lattice vectors."""
    length = np.linalg.norm(frame[i])
    first = max(1, int(np.ceil(span / length - 1e-9)) - 1)
    main = np.arange(first, first + {1: 10.5, 2: 5.5, 3: 2.5}[len(frame)], 0.5)
    shear = np.arange(-3.0 if len(frame) == 2 else -1.0, 3.5 if len(frame) == 2 else 1.5, 0.5)
    others = [j for j in range(len(frame)) if j != i]
    options = []
    for c_main in main:
        for c_others in itertools.product(shear, repeat=len(others)):
            vector = c_main * frame[i] + sum((c * frame[j] for c, j in zip(c_others, others)), np.zeros(3))
            if _is_lattice_vector(vector, basis):
                options.append(vector)
    return np.array(options).reshape(-1, 3)
