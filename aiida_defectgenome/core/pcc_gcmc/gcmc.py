"""PCC-GCMC: a vacuum-free periodic cell around a cluster's frozen core (step 2 of the method).

The frozen core is the central atom's environment (:mod:`.cells`); for each candidate box
(:mod:`.box_search`) the cluster is placed in the box, its buffer trimmed where the box cuts it, the
space around it seeded along the cluster's own rows and its holes filled (:mod:`.lattice_seeding`), and
one LAMMPS run (:mod:`..lammps.inputs`) heals the seams: a short minimisation of the mobile atoms, NVT MD
with grand canonical Monte Carlo inserting, deleting and moving atoms only *outside* the frozen region
(the cluster's own vacancies stay empty), and a final minimisation, by default with the open box axes
relaxed and the frozen atoms put back where they were after each round. Every candidate is checked and scored
(:mod:`.assessment`); the valid one with the lowest energy per atom is chosen.

Shapes and units: positions A, energies eV, stresses GPa. The frozen atoms are the first ``n_core``
atoms of every box, the central atom first, and come back bit for bit where they were placed.
"""

from __future__ import annotations

import copy
import dataclasses
import time

import numpy as np
from ase import Atoms

from ..doptimality.descriptors import descriptor_from_parameters
from .assessment import ENVIRONMENT_TOLERANCE, assess_candidate, check_source_energies, environment_change
from .cell_checks import DEFAULT_MAX_ATOMS
from .cells import PreparedCluster, box_run_parameters, plan_boxes, prepare_cluster, seeded_boxes

__all__ = (
    'CORE_MARGIN',
    'PCC_GCMC_DEFAULTS',
    'PccGcmcResult',
    'central_environment',
    'check_environment',
    'choose_candidate',
    'cohesive_energy',
    'cohesive_energy_run',
    'core_mask_of',
    'fallback_parameters',
    'run_pcc_gcmc',
    'validate_pcc_parameters',
)

CORE_MARGIN = 1.5  # A beyond the descriptor cutoff that stays frozen too
#: k_B T / |E_coh| of the fallback round's anneal: 2,580 K for W (|E_coh| 8.90 eV), 1,010 K for Cu (3.49 eV),
#: 0.70 and 0.75 of their melting points (3,695 K, 1,358 K; cohesive energies from Kittel, Introduction to
#: Solid State Physics, table 3.1): hot enough to unjam a disordered packing, below melting
FALLBACK_ANNEAL = 0.025

#: Our defaults; T, mu, displacement and the MC rates are the published ones (method.md).
PCC_GCMC_DEFAULTS = {
    'boxes': 4,  # candidate boxes run (the largest that fit max_atoms)
    'max_atoms': DEFAULT_MAX_ATOMS,
    'core_radius': None,  # A; None: the descriptor's cutoff + CORE_MARGIN
    'descriptor': {'name': 'snap', 'twojmax': 6, 'cutoff': 5.0},  # of the environment check (an active set's wins)
    'min_distance_fraction': 0.75,  # of the nearest-neighbour distance
    'seed_distance_fraction': 0.8,  # seeded and kept atoms at least this far apart (x nn)
    'fill_fraction': 0.78,  # LAMMPS deposits atoms where no atom is this close (x nn): holes of 0.8 nn it finds at once
    'max_empty_fraction': 0.8,  # largest empty sphere outside the core, in nearest-neighbour distances
    'gcmc_steps': 1000,
    'temperature': 100.0,  # K
    'mu': 0.1,  # eV
    'displace': 0.1,  # A
    'every': 10,
    'exchanges': 10,
    'moves': 10,
    'seed': 12345,
    'relax_box': True,
    'anneal': 0.0,  # NVT anneal of the mobile atoms after the first fill, at k_B T = anneal x |E_coh| (0: none)
    'anneal_steps': 1000,  # MD steps of 2 fs
    'ftol': 1.0e-6,  # eV/A
    'maxiter': 5000,
    # overrides for a second round of boxes when no box of the first is valid (None: no second round)
    'fallback': {'relax_box': False, 'anneal': FALLBACK_ANNEAL},
}


def validate_pcc_parameters(parameters: dict | None) -> dict:
    """Return ``parameters`` completed with :data:`PCC_GCMC_DEFAULTS` (``core_radius`` resolved); raise
    ``ValueError`` on a bad one."""
    parameters = dict(parameters or {})
    unknown = set(parameters) - set(PCC_GCMC_DEFAULTS)
    if unknown:
        raise ValueError(f'unknown PCC-GCMC parameter(s) {", ".join(sorted(unknown))}; known: {", ".join(PCC_GCMC_DEFAULTS)}')
    full = {**copy.deepcopy(PCC_GCMC_DEFAULTS), **parameters}
    for key in ('boxes', 'max_atoms', 'gcmc_steps', 'every', 'maxiter', 'seed', 'anneal_steps'):
        if not isinstance(full[key], int) or isinstance(full[key], bool) or full[key] < (0 if key == 'gcmc_steps' else 1):
            raise ValueError(f'{key} must be a positive integer, got {full[key]!r}')
    for key in ('min_distance_fraction', 'seed_distance_fraction', 'fill_fraction', 'max_empty_fraction', 'temperature', 'ftol'):
        if not isinstance(full[key], (int, float)) or isinstance(full[key], bool) or full[key] <= 0:
            raise ValueError(f'{key} must be a positive number, got {full[key]!r}')
    if not isinstance(full['relax_box'], bool):
        raise ValueError('relax_box must be true or false')
    if not isinstance(full['anneal'], (int, float)) or isinstance(full['anneal'], bool) or not 0 <= full['anneal'] < 0.1:
        raise ValueError(f'anneal must be a number from 0 to 0.1 (k_B T / |E_coh|), got {full["anneal"]!r}')
    fallback = full['fallback']
    if fallback is not None:
        if not isinstance(fallback, dict) or 'fallback' in fallback:
            raise ValueError('fallback must be a dict of PCC-GCMC parameters (not fallback itself), or null')
        validate_pcc_parameters({**parameters, **fallback, 'fallback': None})
    if not isinstance(full['descriptor'], dict):
        raise ValueError('descriptor must be a dict of descriptor settings, e.g. {"name": "snap", "cutoff": 5.0}')
    cutoff = descriptor_from_parameters(full['descriptor']).cutoff
    if full['core_radius'] is None:
        full['core_radius'] = cutoff + CORE_MARGIN
    radius = full['core_radius']
    if not isinstance(radius, (int, float)) or isinstance(radius, bool) or radius < cutoff:
        raise ValueError(
            f'core_radius must be a number of at least the descriptor cutoff ({cutoff:g} A), got {radius!r}: '
            "a smaller frozen core cannot keep the central atom's environment"
        )
    return full


def fallback_parameters(parameters: dict) -> dict | None:
    """Return the validated parameters of the second round (``parameters`` with their ``fallback``), or
    ``None`` when there is none."""
    if not parameters.get('fallback'):
        return None
    return validate_pcc_parameters({**parameters, **parameters['fallback'], 'fallback': None})


def core_mask_of(cluster: Atoms, core_mask=None) -> np.ndarray:
    """Return the ``(n,)`` boolean mask of atoms that may be frozen: ``core_mask``, else the cluster's
    ``core_mask`` or ``core`` array, else all.

    :raises ValueError: for a mask of the wrong length.
    """
    if core_mask is None:
        core_mask = cluster.arrays.get('core_mask', cluster.arrays.get('core', np.ones(len(cluster), dtype=bool)))
    mask = np.asarray(core_mask, dtype=bool)
    if mask.shape != (len(cluster),):
        raise ValueError(f'the core mask has {mask.size} entries for {len(cluster)} atoms')
    return mask


def choose_candidate(figures: list[dict]) -> int | None:
    """Return the index of the valid candidate with the lowest energy per atom (``None``: none valid)."""
    valid = [i for i, f in enumerate(figures) if f['valid']]
    return min(valid, key=lambda i: figures[i]['energy_per_atom']) if valid else None


def cohesive_energy_run(symbol: str) -> tuple[Atoms, dict]:
    """Return the element's reference crystal (ASE's ``bulk(symbol)``, 4 x 4 x 4) and the LAMMPS parameters
    (:mod:`..lammps.inputs`) that relax it with its box: its final energy per atom is the EIP's cohesive
    energy (eV)."""
    from ase.build import bulk

    stages = [{'type': 'minimize', 'ftol': 1.0e-10, 'box_relax': 'iso'}, {'type': 'minimize', 'ftol': 1.0e-10}]
    return bulk(symbol) * (4, 4, 4), {'stages': stages}


def cohesive_energy(potential, symbol: str) -> float:
    """Return the EIP's energy per atom (eV) of :func:`cohesive_energy_run`, run with the local LAMMPS."""
    from ..lammps.local import run_lammps

    crystal, parameters = cohesive_energy_run(symbol)
    result = run_lammps(crystal, potential, parameters)
    return result['atoms'].info['energy'] / len(result['atoms'])


def central_environment(prepared: PreparedCluster, parameters: dict, active_set=None) -> tuple:
    """Return ``(descriptor, row, gamma)`` of the central atom in the cluster: the descriptor of the check
    (the ``active_set``'s, else ``parameters['descriptor']``), its ``(m,)`` row (``None`` when the cluster
    is cut smaller than the descriptor's cutoff: nothing to compare with) and its gamma against the active
    set (``None`` without one)."""
    descriptor = descriptor_from_parameters(active_set.descriptor if active_set is not None else parameters['descriptor'])
    row = descriptor.compute(prepared.atoms)[0] if prepared.cut_radius >= descriptor.cutoff else None
    gamma = float(active_set.grade(row[None])[0]) if active_set is not None and row is not None else None
    return descriptor, row, gamma


def check_environment(figure: dict, cell: Atoms, source_row: np.ndarray | None, descriptor, active_set=None) -> None:
    """Add the central atom's ``environment_change`` (and its ``gamma`` with an ``active_set``) to a
    candidate's ``figure``; a change beyond :data:`ENVIRONMENT_TOLERANCE` makes it invalid. ``source_row``
    ``None``: the cluster does not hold the whole environment, nothing to compare with."""
    if source_row is None:
        figure['environment_change'] = None
        return
    row = descriptor.compute(cell)[0]
    change = environment_change(source_row, row)
    figure['environment_change'] = change
    if active_set is not None:
        figure['gamma'] = float(active_set.grade(row[None])[0])
    if change > ENVIRONMENT_TOLERANCE:
        figure['problems'].append(f"the central atom's environment changed (descriptor by {change:.1e}, relative)")
        figure['valid'] = False


@dataclasses.dataclass
class PccGcmcResult:
    """``cell`` (the chosen periodic cell, ``None`` if no candidate is valid), ``candidates`` (figures of
    every box, :func:`.pcc_assessment.assess_candidate`), ``chosen`` (index or ``None``), ``cpu_s`` (CPU
    seconds: LAMMPS and this process), ``source`` (the core radius used, frozen atoms, the central atom's
    source gamma)."""

    cell: Atoms | None
    candidates: list[dict]
    chosen: int | None
    cpu_s: float
    source: dict


def run_pcc_gcmc(
    cluster: Atoms,
    potential,
    parameters: dict | None = None,
    core_mask=None,
    source_energies=None,
    cohesive: float | None = None,
    active_set=None,
) -> PccGcmcResult:
    """Run PCC-GCMC on ``cluster`` with the local LAMMPS, box after box, and a second round of boxes
    with the ``fallback`` parameters when no box of the first is valid (tests, benchmarks, notebooks;
    workflows run the boxes as CalcJobs); each candidate's figures say its ``round``. ``source_energies``:
    ``(n,)`` per-atom energies (eV) of the cluster's atoms in the source simulation, for the ideal-embedding gap; ``active_set``
    (:class:`.active_set.ActiveSet`): grade the central atom with it (its descriptor is then checked)."""
    from ..lammps.local import LammpsRunError, run_lammps

    start = time.process_time()
    parameters = validate_pcc_parameters(parameters)
    prepared = prepare_cluster(cluster, core_mask_of(cluster, core_mask), parameters['core_radius'])
    plan = plan_boxes(prepared, parameters)
    descriptor, source_row, gamma = central_environment(prepared, parameters, active_set)
    source = {'core_radius': prepared.region.radius, 'n_core': prepared.n_core, 'centre': int(prepared.order[0])}
    if gamma is not None:
        source['gamma'] = gamma
    if cohesive is None:
        cohesive = cohesive_energy(potential, prepared.atoms.get_chemical_symbols()[0])
    if source_energies is not None:
        source_energies = check_source_energies(source_energies, len(cluster))
    cells, figures, cpu = [], [], 0.0
    rounds = [parameters] + ([fallback] if (fallback := fallback_parameters(parameters)) else [])
    for number, settings in enumerate(rounds, start=1):
        if number > 1:  # the first round's boxes found no valid cell
            if any(figure['valid'] for figure in figures):
                break
            plan = plan_boxes(prepared, settings)
        for _, seeded in seeded_boxes(prepared, plan, settings):
            try:
                result = run_lammps(seeded, potential, box_run_parameters(seeded, settings, cohesive))
            except LammpsRunError as exc:  # one box failing leaves the others to choose from
                problems = [f'LAMMPS stopped: {exc}']
                figures.append(
                    {'valid': False, 'problems': problems, 'natoms': len(seeded), 'seeded_atoms': len(seeded), 'round': number}
                )
                cells.append(None)
                continue
            cpu += result['cpu_s']
            cell, figure = assess_candidate(
                seeded,
                result['atoms'],
                result['energies'],
                result['atoms'].info['stress'],
                settings,
                result['final']['ids'],
                cohesive,
                source_energies,
            )
            check_environment(figure, cell, source_row, descriptor, active_set)
            figure.update(seeded_atoms=len(seeded), round=number)
            cells.append(cell)
            figures.append(figure)
    chosen = choose_candidate(figures)
    cpu += time.process_time() - start
    return PccGcmcResult(cells[chosen] if chosen is not None else None, figures, chosen, cpu, source)
