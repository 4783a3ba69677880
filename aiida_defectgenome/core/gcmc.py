"""PCC-GCMC: a vacuum-free periodic cell around a frozen cluster (step 2 of the method).

For each candidate box (:mod:`.box_search`) the cluster is placed in the box, the space around it is
seeded with its own crystal (:mod:`.lattice_seeding`), and one LAMMPS run (:mod:`.lammps_input`) heals
the seams: a short minimisation of the seeded atoms, NVT MD with grand canonical Monte Carlo inserting,
deleting and moving atoms only *outside* the cut region (the cluster's own vacancies stay empty), and a
final minimisation, by default with the open box axes relaxed while the core keeps its geometry
(``dilate partial``). Every candidate is checked (:mod:`.cell_checks` plus "no inserted atom moved
into the cut region") and scored; the valid one with the lowest energy per atom is chosen.

Shapes and units: positions A, energies eV, stresses GPa. The core atoms are the first ``n_core`` atoms
of every box and come back bit for bit where they were placed.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
from ase import Atoms

from . import box_search
from .cell_checks import DEFAULT_MAX_ATOMS, cell_problems, nearest_neighbour_distance
from .geometry import enclosing_cell, minimum_image
from .lammps_input import lammps_frame
from .lattice_seeding import CoreRegion, box_around, core_region, lattice_translations, seed_lattice
from .structure_analysis import adaptive_cna, structure_fractions

__all__ = (
    'PCC_GCMC_DEFAULTS',
    'BoxPlan',
    'assess_candidate',
    'box_run_parameters',
    'choose_candidate',
    'plan_boxes',
    'prepare_cluster',
    'seed_box',
    'validate_pcc_parameters',
)

#: Our defaults; T, mu, displacement and the MC rates are the published ones (method.md).
PCC_GCMC_DEFAULTS = {
    'boxes': 4,  # candidate boxes run (the largest that fit max_atoms)
    'max_atoms': DEFAULT_MAX_ATOMS,
    'min_distance_fraction': 0.75,  # of the nearest-neighbour distance
    'max_empty_fraction': 0.8,  # largest empty sphere outside the core, in nearest-neighbour distances
    'gap_fraction': 0.8,  # smallest box: cut region + this many nearest-neighbour distances
    'gcmc_steps': 1000,
    'temperature': 100.0,  # K
    'mu': 0.1,  # eV
    'displace': 0.1,  # A
    'every': 10,
    'exchanges': 10,
    'moves': 10,
    'seed': 12345,
    'relax_box': True,
    'ftol': 1.0e-6,  # eV/A
    'maxiter': 5000,
}


def validate_pcc_parameters(parameters: dict | None) -> dict:
    """Return ``parameters`` completed with :data:`PCC_GCMC_DEFAULTS`; raise ``ValueError`` on a bad one."""
    parameters = dict(parameters or {})
    unknown = set(parameters) - set(PCC_GCMC_DEFAULTS)
    if unknown:
        raise ValueError(f'unknown PCC-GCMC parameter(s) {", ".join(sorted(unknown))}; known: {", ".join(PCC_GCMC_DEFAULTS)}')
    full = {**copy.deepcopy(PCC_GCMC_DEFAULTS), **parameters}
    for key in ('boxes', 'max_atoms', 'gcmc_steps', 'every', 'maxiter', 'seed'):
        if not isinstance(full[key], int) or isinstance(full[key], bool) or full[key] < (0 if key == 'gcmc_steps' else 1):
            raise ValueError(f'{key} must be a positive integer, got {full[key]!r}')
    for key in ('min_distance_fraction', 'max_empty_fraction', 'gap_fraction', 'temperature', 'ftol'):
        if not isinstance(full[key], (int, float)) or full[key] <= 0:
            raise ValueError(f'{key} must be a positive number, got {full[key]!r}')
    if not isinstance(full['relax_box'], bool):
        raise ValueError('relax_box must be true or false')
    return full


def core_mask_of(cluster: Atoms, core_mask=None) -> np.ndarray:
    """Return the ``(n,)`` boolean core mask: ``core_mask``, else the cluster's ``core_mask`` array, else all.

    :raises ValueError: for a mask of the wrong length.
    """
    mask = core_mask if core_mask is not None else cluster.arrays.get('core_mask', np.ones(len(cluster), dtype=bool))
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (len(cluster),):
        raise ValueError(f'the core mask has {mask.size} entries for {len(cluster)} atoms')
    return mask


def source_core_energy(source_energies, mask: np.ndarray) -> float:
    """Return the sum (eV) of the core atoms' energies in the source simulation, both ``(n,)`` in the
    cluster's own atom order; raise ``ValueError`` when the lengths differ."""
    energies = np.asarray(source_energies, dtype=float)
    if energies.shape != mask.shape:
        raise ValueError(f'{energies.size} source energies for a cluster of {mask.size} atoms')
    return float(np.sum(energies[mask]))


def prepare_cluster(cluster: Atoms, core_mask=None, centre_index: int | None = None) -> tuple[Atoms, int, CoreRegion]:
    """Return ``(ordered, n_core, region)``: the cluster with its core atoms first (mobile cluster atoms
    after them), how many are core, and the cut region around the centre atom.

    :param core_mask: ``(n,)`` booleans; default the cluster's ``core_mask`` array, else every atom.
    :param centre_index: default ``info['centre_index']``, else the core atom nearest the core's centroid.
    :raises ValueError: on an empty core or a mask of the wrong length.
    """
    mask = core_mask_of(cluster, core_mask)
    if not mask.any():
        raise ValueError('the cluster has no core atom: mark the atoms to keep (the `core` array)')
    order = np.concatenate([np.flatnonzero(mask), np.flatnonzero(~mask)])
    ordered = cluster[order]
    cell, positions = enclosing_cell(ordered)  # the cell along open axes is not the cluster's business
    ordered.set_cell(cell)
    ordered.positions = positions
    if centre_index is None:
        centre_index = cluster.info.get('centre_index')
    n_core = int(mask.sum())
    core = ordered.positions[:n_core]
    if centre_index is None:
        probe = core_region(ordered, 0, radius=1.0)
        probe.centre = core.mean(axis=0)
        centre = int(probe.distance(core).argmin())
    else:
        centre = int(np.flatnonzero(order == int(centre_index))[0])
    region = core_region(ordered, centre_index=centre, radius=1.0)
    region.radius = float(max(cluster.info.get('cut_radius', 0.0), region.distance(core).max() + 1e-3))
    return ordered, n_core, region


@dataclasses.dataclass
class BoxPlan:
    """What the box runs share: the crystal's nearest-neighbour distance (A), its lattice
    ``translations`` ``(k, 3)`` and the candidate ``boxes`` (:class:`.box_search.BoxCandidate`)."""

    nn_distance: float
    translations: np.ndarray
    boxes: list


def plan_boxes(cluster: Atoms, n_core: int, region: CoreRegion, parameters: dict) -> BoxPlan:
    """Find the cluster's crystal and the boxes to try; raise :class:`.box_search.ImpossibleBox`."""
    nn = nearest_neighbour_distance(cluster.positions)
    translations = lattice_translations(cluster, nn)
    boxes = box_search.candidate_boxes(
        cluster[:n_core] if n_core < len(cluster) else cluster,
        region,
        translations,
        nn,
        parameters['max_atoms'],
        parameters['boxes'],
        min_distance_fraction=parameters['min_distance_fraction'],
        gap_fraction=parameters['gap_fraction'],
    )
    return BoxPlan(nn, translations, boxes)


def seed_box(cluster: Atoms, n_core: int, region: CoreRegion, plan: BoxPlan, box: box_search.BoxCandidate) -> Atoms:
    """Return the cluster in ``box`` with its crystal seeded around it, cell rows rolled so that the
    cluster's periodic axes come first (LAMMPS x, or x and y). ``info``: ``n_core``, ``region`` (the
    cut region in this box: centre, radius, periodic_axes), ``nn_distance``, ``bulk_atoms`` (atoms of
    the perfect crystal in this volume)."""
    box_atoms, offset = box_around(cluster, region, box.cell)
    placed = CoreRegion(region.centre + offset, region.radius, region.axes)
    seeded = seed_lattice(box_atoms, placed, plan.translations, plan.nn_distance)
    periodic = list(np.flatnonzero(cluster.pbc))
    shift = {0: 0, 1: -periodic[0] if periodic else 0, 2: 2 - int(np.flatnonzero(~cluster.pbc)[0])}[len(periodic)]
    seeded.set_cell(np.roll(seeded.cell[:], shift, axis=0))
    seeded.info.update(
        n_core=n_core,
        nn_distance=plan.nn_distance,
        bulk_atoms=box.estimated_atoms,
        region={'centre': placed.centre.tolist(), 'radius': placed.radius, 'periodic_axes': list(range(len(periodic)))},
    )
    return seeded


#: Box components that may relax with 0, 1 or 2 periodic cluster axes (LAMMPS x, then y): everything
#: but the periodic vectors themselves (tilting the open vectors along a line keeps its period).
_RELAXABLE = {0: ['x', 'y', 'z', 'xy', 'xz', 'yz'], 1: ['y', 'z', 'xy', 'xz', 'yz'], 2: ['z', 'xz', 'yz']}
_STRESS_INDEX = {'x': (0, 0), 'y': (1, 1), 'z': (2, 2), 'xy': (0, 1), 'xz': (0, 2), 'yz': (1, 2)}


def box_run_parameters(seeded: Atoms, parameters: dict) -> dict:
    """Return the LAMMPS parameters (:mod:`.lammps_input`) that heal one seeded box."""
    open_axes = _RELAXABLE[len(seeded.info['region']['periodic_axes'])]
    stages = [
        {'type': 'minimize', 'ftol': 1.0e-3, 'maxiter': 200, 'maxeval': 2000},
        {
            'type': 'gcmc',
            'steps': parameters['gcmc_steps'],
            'every': parameters['every'],
            'exchanges': parameters['exchanges'],
            'moves': parameters['moves'],
            'temperature': parameters['temperature'],
            'mu': parameters['mu'],
            'displace': parameters['displace'],
            'seed': parameters['seed'],
            'region': seeded.info['region'],
        },
        {
            'type': 'minimize',
            'ftol': parameters['ftol'],
            'maxiter': parameters['maxiter'],
            'maxeval': 10 * parameters['maxiter'],
            'box_relax': open_axes if parameters['relax_box'] else False,
        },
    ]
    if not parameters['gcmc_steps']:
        stages.pop(1)
    return {'frozen': seeded.info['n_core'], 'stages': stages, 'thermo_every': 100}


def assess_candidate(
    seeded: Atoms,
    final: Atoms,
    energies: np.ndarray,
    stress: np.ndarray,
    parameters: dict,
    cohesive_energy: float | None = None,
    source_core_energy: float | None = None,
) -> tuple[Atoms, dict]:
    """Check and score one healed box.

    :param final: the structure LAMMPS returned (same frame as ``seeded``, core atoms first).
    :param energies: ``(n,)`` per-atom energies (eV) of ``final``.
    :param stress: ``(3, 3)`` GPa, in the frame of ``final``.
    :param cohesive_energy: the EIP's energy per atom of the perfect crystal (eV), for the ideal embedding.
    :param source_core_energy: sum of the core atoms' energies in the source simulation (eV).
    :returns: ``(cell, figures)``: ``cell`` with the core snapped back exactly (when LAMMPS left it within
        1e-6 A) and a boolean ``core`` array; ``figures`` with ``valid``, ``problems`` and the figures of merit.
    """
    n_core = seeded.info['n_core']
    nn = seeded.info['nn_distance']
    _, rotation = lammps_frame(seeded.cell[:])
    lammps_stress = rotation.T @ np.asarray(stress) @ rotation  # components along the LAMMPS box axes
    region_info = seeded.info['region']
    region = CoreRegion(np.array(region_info['centre']), region_info['radius'], final.cell[region_info['periodic_axes']])
    cell = final.copy()
    drift = np.linalg.norm(minimum_image(final.positions[:n_core] - seeded.positions[:n_core], final.cell[:], final.pbc), axis=1)
    if drift.max() < 1e-6:
        cell.positions[:n_core] = seeded.positions[:n_core]
    problems = cell_problems(
        cell,
        seeded.positions[:n_core],
        nn,
        region.outside,
        min_distance_fraction=parameters['min_distance_fraction'],
        max_empty_fraction=parameters['max_empty_fraction'],
        max_atoms=parameters['max_atoms'],
    )
    inserted = np.arange(n_core, len(cell))
    intruders = int(np.sum(region.distance(cell.positions[inserted]) < region.radius - 0.5 * nn))
    if intruders:
        problems.append(f'{intruders} inserted atom(s) moved into the cut region')
    natoms = len(cell)
    energy = float(np.sum(energies))
    fractions = structure_fractions(adaptive_cna(cell, inserted)) if len(inserted) else structure_fractions([])
    figures = {
        'natoms': natoms,
        'n_core': n_core,
        'n_inserted': int(len(inserted)),
        'energy': energy,
        'energy_per_atom': energy / natoms,
        'stress': np.asarray(stress).tolist(),
        'max_abs_stress': float(np.abs(stress).max()),
        'max_abs_relaxable_stress': float(
            max(abs(lammps_stress[_STRESS_INDEX[c]]) for c in _RELAXABLE[len(region_info['periodic_axes'])])
        ),
        'inserted_structure': fractions,
        'core_drift': float(drift.max()),
        'valid': not problems,
        'problems': problems,
        'lengths': np.linalg.norm(cell.cell[:], axis=1).round(6).tolist(),
        'fill_fraction': natoms / (seeded.info['bulk_atoms'] * cell.get_volume() / seeded.get_volume()),
    }
    if cohesive_energy is not None:
        figures['cohesive_energy'] = cohesive_energy
        if source_core_energy is not None:
            ideal = (source_core_energy + len(inserted) * cohesive_energy) / natoms
            figures['ideal_energy_per_atom'] = ideal
            figures['ideal_gap'] = energy / natoms - ideal
    cell.arrays['core'] = np.arange(natoms) < n_core
    cell.info['energy'] = energy
    return cell, figures


def choose_candidate(figures: list[dict]) -> int | None:
    """Return the index of the valid candidate with the lowest energy per atom (``None``: none valid)."""
    valid = [i for i, f in enumerate(figures) if f['valid']]
    return min(valid, key=lambda i: figures[i]['energy_per_atom']) if valid else None


def cohesive_energy(potential, symbol: str) -> float:
    """Return the EIP's energy per atom (eV) of the element's reference crystal (ASE's
    ``bulk(symbol)``), relaxed with the box; run with the local LAMMPS."""
    from ase.build import bulk

    from .lammps_local import run_lammps

    stages = [{'type': 'minimize', 'ftol': 1.0e-10, 'box_relax': 'iso'}, {'type': 'minimize', 'ftol': 1.0e-10}]
    result = run_lammps(bulk(symbol) * (4, 4, 4), potential, {'stages': stages})
    return result['atoms'].info['energy'] / len(result['atoms'])


@dataclasses.dataclass
class PccGcmcResult:
    """``cell`` (the chosen periodic cell, ``None`` if no candidate is valid), ``candidates`` (figures of
    every box, :func:`assess_candidate`), ``chosen`` (index or ``None``), ``cpu_s`` (LAMMPS CPU seconds)."""

    cell: Atoms | None
    candidates: list[dict]
    chosen: int | None
    cpu_s: float


def run_pcc_gcmc(
    cluster: Atoms,
    potential,
    parameters: dict | None = None,
    core_mask=None,
    source_energies=None,
    cohesive: float | None = None,
) -> PccGcmcResult:
    """Run PCC-GCMC on ``cluster`` with the local LAMMPS, box after box (tests, benchmarks, notebooks;
    workflows run the boxes as CalcJobs). ``source_energies``: ``(n,)`` per-atom energies (eV) of the
    cluster's atoms in the source simulation, for the ideal-embedding gap."""
    from .lammps_local import run_lammps

    parameters = validate_pcc_parameters(parameters)
    ordered, n_core, region = prepare_cluster(cluster, core_mask)
    plan = plan_boxes(ordered, n_core, region, parameters)
    if cohesive is None:
        cohesive = cohesive_energy(potential, ordered.get_chemical_symbols()[0])
    core_energy = None
    if source_energies is not None:  # indexed like ``cluster``, not like the reordered atoms
        core_energy = source_core_energy(source_energies, core_mask_of(cluster, core_mask))
    cells, figures, cpu = [], [], 0.0
    for box in plan.boxes:
        seeded = seed_box(ordered, n_core, region, plan, box)
        result = run_lammps(seeded, potential, box_run_parameters(seeded, parameters))
        cpu += result['cpu_s']
        cell, figure = assess_candidate(
            seeded, result['atoms'], result['energies'], result['atoms'].info['stress'], parameters, cohesive, core_energy
        )
        figure['seeded_atoms'] = len(seeded)
        cells.append(cell)
        figures.append(figure)
    chosen = choose_candidate(figures)
    return PccGcmcResult(cells[chosen] if chosen is not None else None, figures, chosen, cpu)
