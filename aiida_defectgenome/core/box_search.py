"""Periodic boxes for a frozen cluster that continue its own crystal across the boundaries.

Instead of a grid of box lengths along arbitrary axes (the published procedure), the open cell vectors
are chosen among the *lattice vectors* of the cluster's crystal: then the crystal seeded around the
cluster meets its own periodic image without a seam. The lattice comes from the translations found
by :func:`.lattice_seeding.lattice_translations`; an aligned frame (the shortest mutually orthogonal
lattice vectors, orthogonal to the cluster's periodic axes) gives box vectors ``n e_i`` and sheared
ones ``n e_i + e_j / 2`` where those are lattice vectors. A box is kept when no core atom comes closer
than a fraction of the nearest-neighbour distance to a periodic image of another core atom, and its
estimated atom count fits the budget. A cluster with no single crystal to continue (a grain boundary),
or whose commensurate boxes all exceed the budget, falls back to box lengths 0.5 A apart along its own
axes, down to the smallest box its images allow; those boxes are marked not commensurate. Nothing
assumes an element or a lattice type.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

from .lattice_seeding import CoreRegion

__all__ = ('BoxCandidate', 'ImpossibleBox', 'aligned_frame', 'candidate_boxes', 'lattice_basis', 'mean_atomic_volume')

_ORTHOGONAL = 0.05  # |cos| below which two lattice vectors count as orthogonal


class ImpossibleBox(ValueError):
    """No periodic box holds the cluster within the limits; the message says why and what to change."""


@dataclasses.dataclass
class BoxCandidate:
    """A periodic box for the cluster: ``cell`` ``(3, 3)`` rows in A (periodic axes of the cluster as
    they were), ``estimated_atoms`` from the crystal's atomic volume, ``closest_image`` the smallest
    distance (A) between a core atom and an image of a core atom, ``commensurate`` whether the open
    vectors are lattice vectors."""

    cell: np.ndarray
    estimated_atoms: int
    closest_image: float
    commensurate: bool

    @property
    def lengths(self) -> list[float]:
        return np.linalg.norm(self.cell, axis=1).round(4).tolist()


def lattice_basis(translations: np.ndarray) -> np.ndarray | None:
    """Return a ``(3, 3)`` primitive basis (rows) spanned by ``translations`` (the triple of smallest
    volume, refined by least squares against all of them), or ``None`` when they do not span 3D."""
    best, volume = None, np.inf
    floor = 0.2 * np.min(np.linalg.norm(translations, axis=1)) ** 3  # nearly coplanar triples are noise
    for triple in itertools.combinations(range(len(translations)), 3):
        rows = translations[list(triple)]
        det = abs(np.linalg.det(rows))
        if floor < det < volume - 1e-6:
            best, volume = rows, det
    if best is None:
        return None
    # least squares over every translation: averages out the distortion of a defected cluster
    integers = np.round(np.linalg.solve(best.T, translations.T).T)
    return np.linalg.lstsq(integers, translations, rcond=None)[0]


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
    points, units = points[allowed], units[allowed]
    points, units = points[:60], units[:60]  # the shortest ones are enough
    need = 3 - len(fixed)
    best, score = None, np.inf
    for combo in itertools.combinations(range(len(points)), need):
        if need > 1 and any(abs(units[i] @ units[j]) >= _ORTHOGONAL for i, j in itertools.combinations(combo, 2)):
            continue
        product = float(np.prod(np.linalg.norm(points[list(combo)], axis=1)))
        if product < score - 1e-9:
            best, score = [points[i] for i in combo], product
    return best


def mean_atomic_volume(cluster: Atoms, region: CoreRegion, basis: np.ndarray | None) -> float:
    """Return the volume per atom (A^3) of the cluster's crystal: the primitive cell of ``basis`` over
    the (rounded) number of atoms it holds; without a basis, the cut region's volume over its atoms."""
    if len(region.axes) == 0:
        volume = 4 / 3 * np.pi * region.radius**3
    elif len(region.axes) == 1:
        volume = np.pi * region.radius**2 * abs(np.linalg.det(cluster.cell[:])) / _open_area(cluster)
    else:
        volume = 2 * region.radius * _open_area(cluster, along=False)
    per_atom = volume / len(cluster)
    if basis is None:
        return per_atom
    cell_volume = abs(np.linalg.det(basis))
    return cell_volume / max(1, round(cell_volume / per_atom))


def _open_area(cluster: Atoms, along: bool = True) -> float:
    """Cross-section area of the cluster cell perpendicular to its periodic axis (``along``), or the
    area spanned by its two periodic vectors."""
    periodic = [cluster.cell[k] for k in range(3) if cluster.pbc[k]]
    if along:
        return abs(np.linalg.det(cluster.cell[:])) / np.linalg.norm(periodic[0])
    return float(np.linalg.norm(np.cross(periodic[0], periodic[1])))


def _closest_image(core: np.ndarray, cell: np.ndarray) -> float:
    shifts = np.array([m for m in itertools.product((-1, 0, 1), repeat=3) if any(m)]) @ cell
    images = (core[None] + shifts[:, None]).reshape(-1, 3)
    distances, _ = cKDTree(core).query(images)
    return float(distances.min())


def candidate_boxes(
    cluster: Atoms,
    region: CoreRegion,
    translations: np.ndarray,
    nn_distance: float,
    max_atoms: int,
    count: int,
    min_distance_fraction: float = 0.75,
    gap_fraction: float = 0.8,
) -> list[BoxCandidate]:
    """Return up to ``count`` distinct boxes for ``cluster``, largest first among those within ``max_atoms``.

    :param gap_fraction: boxes are built around the span of the cut region plus this many
        nearest-neighbour distances, so that inserted atoms fit between the cluster and its image.
    :raises ImpossibleBox: when no box holds the cluster within ``max_atoms`` atoms.
    """
    open_axes = [k for k in range(3) if not cluster.pbc[k]]
    fixed_axes = [k for k in range(3) if cluster.pbc[k]]
    if not open_axes:
        raise ImpossibleBox('the cluster is periodic along all three axes: there is no open space to fill')
    fixed = np.array([cluster.cell[k] for k in fixed_axes], dtype=float).reshape(-1, 3)
    reach = region.distance(cluster.positions).max()
    span = 2 * reach + gap_fraction * nn_distance
    basis = lattice_basis(translations) if len(translations) >= 3 else None
    atomic_volume = mean_atomic_volume(cluster, region, basis)
    frame = aligned_frame(basis, list(fixed), reach=6 * nn_distance) if basis is not None else None
    limits = (2 * reach - nn_distance, max_atoms, min_distance_fraction * nn_distance, count)
    boxes, smallest = [], None
    if frame is not None:
        options = [_open_vector_options(i, np.array(frame), basis, span) for i in range(len(frame))]
        boxes, smallest = _fitting_boxes(cluster, fixed, options, atomic_volume, limits, commensurate=True)
    if not boxes:  # no crystal to continue, or none of its boxes fits: lengths 0.5 A apart along the cluster's axes
        options = [_grid_options(_open_direction(cluster, k), limits[0], span) for k in open_axes]
        boxes, fallback_smallest = _fitting_boxes(cluster, fixed, options, atomic_volume, limits, commensurate=False)
        smallest = min(filter(None, (smallest, fallback_smallest)), default=None)
    if not boxes:
        raise ImpossibleBox(
            f'no periodic box holds this {len(cluster)}-atom cluster within {max_atoms} atoms'
            + (f' (the smallest box found needs about {smallest})' if smallest else '')
            + ': raise max_atoms or cut the cluster with a smaller radius'
        )
    return boxes


def _fitting_boxes(
    cluster: Atoms, fixed: np.ndarray, options: list[np.ndarray], atomic_volume: float, limits: tuple, commensurate: bool
) -> tuple[list[BoxCandidate], int | None]:
    """Build every cell from the open-vector ``options`` and return (distinct boxes within the budget,
    largest first, at most ``count``; the atom count of the smallest plausible box over the budget).
    ``limits`` is (shortest translation A, max_atoms, closest image A, count)."""
    shortest_allowed, max_atoms, closest_allowed, count = limits
    open_axes = [k for k in range(3) if not cluster.pbc[k]]
    fixed_axes = [k for k in range(3) if cluster.pbc[k]]
    cells = np.zeros((int(np.prod([len(o) for o in options])), 3, 3))
    cells[:, fixed_axes] = fixed
    for slot, grid in zip(open_axes, np.meshgrid(*[np.arange(len(o)) for o in options], indexing='ij')):
        cells[:, slot] = options[open_axes.index(slot)][grid.ravel()]
    volumes = np.linalg.det(cells)
    cells[volumes < 0, open_axes[-1]] *= -1  # right-handed
    atoms = np.round(np.abs(volumes) / atomic_volume).astype(int)
    shortest = _shortest_translation(cells, open_axes, fixed)
    plausible = (np.abs(volumes) > 1e-6) & (atoms >= len(cluster)) & (shortest >= shortest_allowed)
    over = atoms[plausible & (atoms > max_atoms)]
    boxes = []
    for index in np.flatnonzero(plausible & (atoms <= max_atoms))[
        np.argsort(-atoms[plausible & (atoms <= max_atoms)], kind='stable')
    ]:
        closest = _closest_image(cluster.positions, cells[index])
        if closest < closest_allowed:
            continue
        box = BoxCandidate(_reduced(cells[index], open_axes), int(atoms[index]), closest, commensurate)
        if not any(
            box.estimated_atoms == other.estimated_atoms and np.allclose(sorted(box.lengths), sorted(other.lengths), atol=1e-3)
            for other in boxes
        ):
            boxes.append(box)
        if len(boxes) == count:
            break
    return boxes, (int(over.min()) if len(over) else None)


def _shortest_translation(cells: np.ndarray, open_axes: list[int], fixed: np.ndarray) -> np.ndarray:
    """``(k,)`` length (A), perpendicular to the ``fixed`` periodic vectors, of the shortest translation
    that moves the cut region onto an image (m . open vectors, m in {-1, 0, 1}), for each cell."""
    steps = np.array([m for m in itertools.product((-1, 0, 1), repeat=len(open_axes)) if m > (0,) * len(open_axes)], dtype=float)
    vectors = np.einsum('sm,cmx->csx', steps, cells[:, open_axes])
    if len(fixed):
        basis = np.linalg.qr(fixed.T)[0].T
        vectors = vectors - np.einsum('csb,bx->csx', vectors @ basis.T, basis)
    return np.linalg.norm(vectors, axis=2).min(axis=1)


def _reduced(cell: np.ndarray, open_axes: list[int]) -> np.ndarray:
    """Return ``cell`` with its open vectors pairwise reduced (same periodic lattice, least skew)."""
    cell = cell.copy()
    changed = True
    while changed:
        changed = False
        for i, j in itertools.permutations(open_axes, 2):
            step = np.round(cell[i] @ cell[j] / (cell[j] @ cell[j]))
            if step and np.linalg.norm(cell[i] - step * cell[j]) < np.linalg.norm(cell[i]) - 1e-9:
                cell[i] = cell[i] - step * cell[j]
                changed = True
    return cell


def _open_direction(cluster: Atoms, axis: int) -> np.ndarray:
    vector = np.array(cluster.cell[axis], dtype=float)
    return vector / np.linalg.norm(vector)


def _grid_options(direction: np.ndarray, shortest: float, span: float) -> np.ndarray:
    """``(k, 3)`` vectors along the unit ``direction``, 0.5 A apart, from ``shortest`` to ``span`` + 1 A."""
    return np.arange(np.ceil(2 * max(shortest, 0.5)) / 2, span + 1.0 + 1e-9, 0.5)[:, None] * direction


def _open_vector_options(i: int, frame: np.ndarray, basis: np.ndarray, span: float) -> np.ndarray:
    """``(k, 3)`` choices for open box vector ``i``: ``c_i e_i + sum_j c_j e_j`` with ``c_i`` around
    ``span / |e_i|`` and small shears ``c_j`` (halves), kept where they are lattice vectors."""
    length = np.linalg.norm(frame[i])
    first = max(1, int(np.ceil(span / length - 1e-9)) - 1)
    main = np.arange(first, first + 2.5, 0.5)
    shear = np.arange(-3.0 if len(frame) == 2 else -1.0, 3.5 if len(frame) == 2 else 1.5, 0.5)
    others = [j for j in range(len(frame)) if j != i]
    options = []
    for c_main in main:
        for c_others in itertools.product(shear, repeat=len(others)):
            vector = c_main * frame[i] + sum((c * frame[j] for c, j in zip(c_others, others)), np.zeros(3))
            if _is_lattice_vector(vector, basis):
                options.append(vector)
    return np.array(options).reshape(-1, 3)
