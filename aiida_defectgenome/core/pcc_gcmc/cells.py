"""PCC-GCMC before LAMMPS: the frozen core, the boxes to try, and each box seeded around the cluster.

The frozen core is what must be preserved: the central atom's environment, every cluster atom within
the core radius (the descriptor cutoff plus a margin) of the central atom, or of the central line when
the cluster is periodic along a dislocation line. The rest of the cut cluster is a buffer: it seeds the
crystal around the core, is trimmed where the box cuts it (a buffer atom stays only on its own side of
the box, nearer its own centre than any image of it, and not crowding another), and relaxes with the
inserted atoms. Shapes and units: positions A; the frozen atoms come first, the central atom first of all.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from ase import Atoms, units
from ase.neighborlist import neighbor_list

from ..doptimality.descriptors import descriptor_from_parameters
from ..structures.geometry import enclosing_cell, minimum_image
from . import box_search
from .cell_checks import nearest_neighbour_distance
from .lattice_seeding import CoreRegion, box_around, coordination, fill_holes, image_shifts, seed_lattice

__all__ = ('BoxPlan', 'PreparedCluster', 'box_run_parameters', 'plan_boxes', 'prepare_cluster', 'seed_box', 'seeded_boxes')


@dataclasses.dataclass
class PreparedCluster:
    """A cluster ready for boxes: ``atoms`` (central atom first, the other frozen atoms, then the buffer,
    each by distance from the centre; open axes boxed), ``n_core`` frozen atoms, the frozen ``region``,
    ``order`` ``(n,)`` (index in the input cluster of each atom of ``atoms``) and ``cut_radius`` (A: how far
    the cluster holds every atom of its source; its extent when not given)."""

    atoms: Atoms
    n_core: int
    region: CoreRegion
    order: np.ndarray
    cut_radius: float


def _centre_of(cluster: Atoms, mask: np.ndarray, centre_index) -> int:
    if centre_index is None:
        centre_index = cluster.info.get('centre_index', cluster.info.get('centre'))
    if centre_index is None:  # the frozen atom nearest the middle of the frozen atoms
        probe = CoreRegion(cluster.positions[mask].mean(axis=0), 0.0, cluster.cell[np.flatnonzero(cluster.pbc)])
        candidates = np.flatnonzero(mask)
        return int(candidates[probe.distance(cluster.positions[candidates]).argmin()])
    centre = int(centre_index)
    if not 0 <= centre < len(cluster):
        raise ValueError(f'the central atom {centre} is not an atom of this {len(cluster)}-atom cluster')
    if not mask[centre]:
        raise ValueError(f'the central atom {centre} is not marked core: it must stay frozen')
    return centre


#: Closer than this (A), two atoms of a metal overlap: no simulation of a solid brings them there.
MIN_SEPARATION = 1.0


def _check_atoms_apart(cluster: Atoms) -> None:
    """Raise ``ValueError`` for non-finite positions or two atoms closer than :data:`MIN_SEPARATION`."""
    if not np.all(np.isfinite(cluster.positions)):
        raise ValueError('the cluster has positions that are not finite numbers')
    first, second, distance = neighbor_list('ijd', cluster, MIN_SEPARATION)
    if len(distance):
        k = int(distance.argmin())
        raise ValueError(f'atoms {first[k]} and {second[k]} overlap: {distance[k]:.2f} A apart (less than {MIN_SEPARATION} A)')


def prepare_cluster(cluster: Atoms, core_mask: np.ndarray, core_radius: float, centre_index: int | None = None) -> PreparedCluster:
    """Return the :class:`PreparedCluster` of ``cluster``: frozen are the atoms of ``core_mask`` within
    ``core_radius`` (A) of the central atom (``centre_index``, else ``info['centre_index']`` or
    ``info['centre']``, else the marked atom nearest the middle of the marked ones), and not beyond the
    cluster's ``info['cut_radius']``; an unmarked atom inside that radius shrinks the region to exclude it.

    :raises ValueError: for an empty mask or a central atom that is not in the cluster or not marked.
    """
    if not core_mask.any():
        raise ValueError('the cluster has no core atom: mark the atoms that may be frozen (the `core` array)')
    _check_atoms_apart(cluster)
    centre = _centre_of(cluster, core_mask, centre_index)
    axes = cluster.cell[np.flatnonzero(cluster.pbc)]
    distance = CoreRegion(cluster.positions[centre], 0.0, axes).distance(cluster.positions)
    cut_radius = float(cluster.info.get('cut_radius') or distance.max() + 1e-3)
    radius = min(float(core_radius), cut_radius)
    unmarked = distance[~core_mask]
    if len(unmarked) and unmarked.min() <= radius:
        radius = float(unmarked.min()) - 1e-3
    frozen = core_mask & (distance <= radius)
    others = np.flatnonzero(frozen)
    others = others[others != centre]
    order = np.concatenate(
        [
            [centre],
            others[np.argsort(distance[others], kind='stable')],
            np.flatnonzero(~frozen)[np.argsort(distance[~frozen], kind='stable')],
        ]
    ).astype(int)
    ordered = cluster[order]
    cell, positions = enclosing_cell(ordered)  # the cell along open axes is not the cluster's business
    ordered.set_cell(cell)
    ordered.positions = positions
    region = CoreRegion(ordered.positions[0].copy(), radius, ordered.cell[np.flatnonzero(ordered.pbc)])
    return PreparedCluster(ordered, int(frozen.sum()), region, order, cut_radius)


@dataclasses.dataclass
class BoxPlan:
    """What the box runs share: the crystal's nearest-neighbour distance (A), its lattice ``basis``
    (``(3, 3)`` rows, A, or ``None`` without a single crystal), ``atomic_volume`` (A^3), the cluster's
    ``coordination`` (neighbours in the first shells, :func:`.lattice_seeding.coordination`), the
    candidate ``boxes`` (:class:`.box_search.BoxCandidate`, more than will run: some may seed over the
    budget) and the ``largest_hole`` (A) of the material around the core (:func:`largest_material_hole`)."""

    nn_distance: float
    basis: np.ndarray | None
    atomic_volume: float
    coordination: int
    boxes: list
    largest_hole: float = 0.0


def _atomic_volume(prepared: PreparedCluster, basis: np.ndarray | None, nn: float) -> float:
    """Volume per atom (A^3): of the lattice's primitive cell over the atoms it holds, the atoms counted
    from the cluster's density; that density is the median over spheres (cylinders, slabs) of radii from
    half the cut radius to half a neighbour distance inside it of their volume over the atoms in them."""
    atoms, region = prepared.atoms, prepared.region
    periodic = [atoms.cell[k] for k in range(3) if atoms.pbc[k]]
    distance = region.distance(atoms.positions)
    ratios = []
    for radius in np.linspace(prepared.cut_radius / 2, prepared.cut_radius - nn / 2, 9):
        if len(periodic) == 0:
            volume = 4 / 3 * np.pi * radius**3
        elif len(periodic) == 1:
            volume = np.pi * radius**2 * np.linalg.norm(periodic[0])
        else:
            volume = 2 * radius * np.linalg.norm(np.cross(periodic[0], periodic[1]))
        ratios.append(volume / max(1, np.sum(distance <= radius)))
    per_atom = float(np.median(ratios))
    if basis is None:
        return per_atom
    cell_volume = abs(np.linalg.det(basis))
    return cell_volume / max(1, round(cell_volume / per_atom))


def plan_boxes(prepared: PreparedCluster, parameters: dict) -> BoxPlan:
    """Find the cluster's crystal and the boxes to try; raise :class:`.box_search.ImpossibleBox`."""
    atoms = prepared.atoms
    nn = nearest_neighbour_distance(atoms.positions)
    basis = box_search.cluster_lattice(atoms, nn, prepared.region)
    volume = _atomic_volume(prepared, basis, nn)
    cutoff = descriptor_from_parameters(parameters['descriptor']).cutoff
    boxes = box_search.candidate_boxes(
        atoms, prepared.n_core, prepared.region, basis, nn, volume, parameters['max_atoms'], parameters['min_distance_fraction'],
        min_radius=cutoff,
    )  # fmt: skip
    return BoxPlan(nn, basis, volume, coordination(atoms.positions, nn), boxes, largest_material_hole(prepared, nn))


def largest_material_hole(prepared: PreparedCluster, nn: float, spacing: float = 0.2) -> float:
    """Radius (A) of the largest empty sphere enclosed by the cluster's atoms, centred up to one
    neighbour distance inside its cut: the holes the material itself has (a hot or disordered structure
    has some as large as a vacancy). Spheres of 1.2 nn or more are open vacuum (a surface, a crack) and
    do not count."""
    from scipy.spatial import cKDTree

    atoms, region = prepared.atoms, prepared.region
    reach = prepared.cut_radius - nn
    axes = np.arange(-reach, reach + 1e-9, spacing)
    grid = np.stack(np.meshgrid(axes, axes, axes, indexing='ij'), axis=-1).reshape(-1, 3) + region.centre
    distance = region.distance(grid)
    grid = grid[distance <= reach]
    positions = atoms.positions
    for vector in [atoms.cell[k] for k in range(3) if atoms.pbc[k]]:
        positions = np.vstack([positions, positions - vector, positions + vector])
    empty, _ = cKDTree(positions).query(grid) if len(grid) else (np.zeros(0), None)
    enclosed = empty[empty < 1.2 * nn]
    return float(enclosed.max()) if len(enclosed) else 0.0


def _kept_buffer(box: Atoms, n_core: int, region: CoreRegion, limit: float) -> np.ndarray:
    """Indices of the buffer atoms (after the first ``n_core``) that stay in the periodic ``box``: nearer
    their own centre than any image of it, and no closer than ``limit`` (A) to an atom kept before them."""
    cell = np.array(box.cell[:])
    shifts = image_shifts(cell, reach=2)
    own = region.distance(box.positions)
    nearest_other = np.min([region.distance(box.positions - shift) for shift in shifts[1:]], axis=0)
    kept = list(range(n_core))
    for index in range(n_core, len(box)):
        if own[index] > nearest_other[index]:
            continue
        gaps = np.linalg.norm(minimum_image(box.positions[kept] - box.positions[index], cell, [True] * 3), axis=1)
        if gaps.min() >= limit:
            kept.append(index)
    return np.array(kept[n_core:], dtype=int)


def seed_box(prepared: PreparedCluster, plan: BoxPlan, box: box_search.BoxCandidate, parameters: dict) -> Atoms:
    """Return the cluster in ``box`` with its buffer trimmed and its crystal seeded around it, cell rows
    rolled so that the cluster's periodic axes come first (LAMMPS x, or x and y). ``info``: ``n_core``,
    ``core_index`` and ``buffer`` (input index of each frozen atom, of each kept buffer atom in order
    after the core), ``trimmed`` (input indices of the buffer atoms left out), ``region`` (centre, radius,
    periodic_axes in this box), ``nn_distance``, ``bulk_atoms`` (atoms of the perfect crystal in this volume)."""
    atoms, n_core, region, nn = prepared.atoms, prepared.n_core, prepared.region, plan.nn_distance
    placed_atoms, offset = box_around(atoms, region, box.cell)
    placed = CoreRegion(region.centre + offset, region.radius, region.axes)
    limit = parameters['seed_distance_fraction'] * nn
    buffer = _kept_buffer(placed_atoms, n_core, placed, limit)
    kept = placed_atoms[np.concatenate([np.arange(n_core), buffer]).astype(int)]
    seeded = seed_lattice(kept, placed, nn, parameters['seed_distance_fraction'], plan.coordination)
    seeded = fill_holes(seeded, placed, nn, parameters['max_empty_fraction'] - 0.02, round(kept.get_volume() / plan.atomic_volume))
    periodic = list(np.flatnonzero(atoms.pbc))
    shift = {0: 0, 1: -periodic[0] if periodic else 0, 2: 2 - int(np.flatnonzero(~atoms.pbc)[0])}[len(periodic)]
    seeded.set_cell(np.roll(seeded.cell[:], shift, axis=0))
    trimmed = sorted(set(range(n_core, len(atoms))) - set(buffer.tolist()))
    seeded.info.update(
        n_core=n_core,
        largest_hole=plan.largest_hole,
        core_index=prepared.order[:n_core].tolist(),
        buffer=prepared.order[buffer].tolist(),
        trimmed=prepared.order[trimmed].tolist(),
        nn_distance=nn,
        bulk_atoms=box.estimated_atoms,
        region={'centre': placed.centre.tolist(), 'radius': placed.radius, 'periodic_axes': list(range(len(periodic)))},
    )
    return seeded


def seeded_boxes(prepared: PreparedCluster, plan: BoxPlan, parameters: dict) -> list[tuple[box_search.BoxCandidate, Atoms]]:
    """Return up to ``parameters['boxes']`` ``(box, seeded)`` pairs, largest first and spread over sizes
    (each at least ``BOX_SIZE_STEP`` of ``max_atoms`` smaller than the one before, so that a defect that
    needs more room than its estimate, extra atoms that swell the box, still finds a box that fits),
    leaving out boxes whose seeded cell holds more than ``max_atoms`` atoms.

    :raises box_search.ImpossibleBox: when every box seeds over the budget.
    """
    step = max(1, round(BOX_SIZE_STEP * parameters['max_atoms']))
    chosen, density, below = [], 1.0, np.inf
    for box in plan.boxes:  # largest first; once a box seeds over its estimate, skip to those that can fit
        if box.estimated_atoms * density > parameters['max_atoms'] or box.estimated_atoms > below:
            continue
        seeded = seed_box(prepared, plan, box, parameters)
        if len(seeded) > parameters['max_atoms']:
            density = max(density, len(seeded) / box.estimated_atoms)
            continue
        chosen.append((box, seeded))
        below = box.estimated_atoms - step
        if len(chosen) == parameters['boxes']:
            break
    if not chosen:
        raise box_search.ImpossibleBox(
            f"every box seeded with the cluster's crystal holds more than {parameters['max_atoms']} atoms: raise "
            'max_atoms or freeze a smaller region'
        )
    return chosen


BOX_SIZE_STEP = 0.04  # of max_atoms between the estimated sizes of the boxes run
KEEP_OUT_DEPTH = 0.3  # x nn inside the frozen region's edge: the wall that mobile atoms do not pass
#: The first box relaxation only lets the box take up what the seeding got wrong before the holes are
#: filled: it stops on the energy (its force norm holds the box's stress times volume, 1.5 eV at 0.1 GPa
#: in 2,400 A^3, which an ftol meant for atoms chases for thousands of steps) and after 500 steps.
FIRST_BOX = {'etol': 1.0e-8, 'ftol': 1.0e-3, 'maxiter': 500, 'maxeval': 5000}
#: Box components that may relax with 0, 1 or 2 periodic cluster axes (LAMMPS x, then y): everything
#: but the periodic vectors themselves (tilting the open vectors along a line keeps its period).
RELAXABLE = {0: ['x', 'y', 'z', 'xy', 'xz', 'yz'], 1: ['y', 'z', 'xy', 'xz', 'yz'], 2: ['z', 'xz', 'yz']}


def box_run_parameters(seeded: Atoms, parameters: dict, cohesive: float | None = None) -> dict:
    """Return the LAMMPS parameters (:mod:`..lammps.inputs`) that heal one seeded box: relax the mobile
    atoms (and the open box vectors), fill the holes that opened, anneal the mobile atoms (with
    ``parameters['anneal']``: NVT at k_B T = anneal x ``|cohesive|``, eV), GCMC with the published
    settings, relax again, fill again, and a last minimisation at the final box; all along, a wall just
    inside the frozen region keeps the mobile atoms out of its vacancies and vacuum (a crack, a surface).

    :raises ValueError: for an anneal without the cohesive energy.
    """
    region = seeded.info['region']
    open_axes = RELAXABLE[len(region['periodic_axes'])] if parameters['relax_box'] else False
    fill = {
        'type': 'fill',
        'distance': parameters['fill_fraction'] * seeded.info['nn_distance'],
        'max_atoms': parameters['max_atoms'],
        'seed': parameters['seed'],
        'region': region,
    }
    gcmc = {
        'type': 'gcmc',
        'steps': parameters['gcmc_steps'],
        'every': parameters['every'],
        'exchanges': parameters['exchanges'],
        'moves': parameters['moves'],
        'temperature': parameters['temperature'],
        'mu': parameters['mu'],
        'displace': parameters['displace'],
        'seed': parameters['seed'],
        'region': region,
        'max_mobile': parameters['max_atoms'] - seeded.info['n_core'],
    }
    final = {'ftol': parameters['ftol'], 'maxiter': parameters['maxiter'], 'maxeval': 10 * parameters['maxiter']}
    anneal = []
    if parameters['anneal']:
        if cohesive is None:
            raise ValueError("an anneal needs the EIP's cohesive energy")
        temperature = parameters['anneal'] * abs(cohesive) / units.kB
        anneal = [
            {
                'type': 'md',
                'temperature': temperature,
                'steps': parameters['anneal_steps'],
                'timestep': 0.002,
                'seed': parameters['seed'],
            }
        ]
    stages = [
        {'type': 'minimize', 'ftol': 1.0e-3, 'maxiter': 200, 'maxeval': 2000},
        *([{'type': 'minimize', **FIRST_BOX, 'box_relax': open_axes}] if open_axes else []),
        fill,
        *anneal,
        *([gcmc] if parameters['gcmc_steps'] else []),
        {'type': 'minimize', **final, 'box_relax': open_axes},
        {**fill, 'seed': parameters['seed'] + 7},
        {'type': 'minimize', **final},
    ]
    wall = region['radius'] - KEEP_OUT_DEPTH * seeded.info['nn_distance']
    keep_out = {**region, 'radius': wall} if len(region['periodic_axes']) < 2 and wall > 0 else None
    return {'frozen': seeded.info['n_core'], 'keep_out': keep_out, 'stages': stages, 'thermo_every': 100}
