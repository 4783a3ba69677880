"""PCC-GCMC after LAMMPS: is a healed box a valid cell, and how good is it.

Valid (:func:`assess_candidate`): the geometric checks of :mod:`.cell_checks` (frozen atoms exactly where
they were placed, no close pair, no vacuum pocket outside the frozen region: no empty sphere larger than
``max_empty_fraction`` x nn, or than the largest hole of the material around the core, which a hot or
disordered cluster has, up to a vacancy's size; at most ``max_atoms``), no
mobile atom inside the frozen region or its images (the cluster's own vacancies stay empty), and,
independently of geometry, the central atom's environment as the MLIP sees it: its descriptor in the
cell equals the one in the cluster to ``ENVIRONMENT_TOLERANCE`` (relative; :func:`environment_change`).
Figures of merit: energy per atom, the gap to the ideal embedding, the structure of the inserted atoms,
stress, fill fraction, and which cluster atoms the cell keeps. Energies eV, stresses GPa, lengths A.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from ..lammps.inputs import lammps_frame
from ..structures.analysis import adaptive_cna, structure_fractions
from ..structures.geometry import minimum_image
from .cell_checks import cell_problems
from .cells import RELAXABLE
from .lattice_seeding import CoreRegion

__all__ = ('ENVIRONMENT_TOLERANCE', 'assess_candidate', 'check_source_energies', 'environment_change')

ENVIRONMENT_TOLERANCE = 1.0e-6  # relative change of the central atom's descriptor
MAX_EMPTY_FRACTION = 1.0  # x nn: a hole the material itself has counts as vacuum beyond a vacancy's size
_STRESS_INDEX = {'x': (0, 0), 'y': (1, 1), 'z': (2, 2), 'xy': (0, 1), 'xz': (0, 2), 'yz': (1, 2)}


def check_source_energies(source_energies, natoms: int) -> np.ndarray:
    """Return the ``(n,)`` per-atom source energies (eV) of a cluster of ``natoms``; raise ``ValueError``
    when their number differs."""
    energies = np.asarray(source_energies, dtype=float)
    if energies.shape != (natoms,):
        raise ValueError(f'{energies.size} source energies for a cluster of {natoms} atoms')
    return energies


def environment_change(source_row: np.ndarray, cell_row: np.ndarray) -> float:
    """Return ``|d_cell - d_source| / |d_source|`` of the central atom: ``cell_row`` its descriptor in the
    cell, ``source_row`` in the cluster."""
    return float(np.linalg.norm(cell_row - source_row) / max(np.linalg.norm(source_row), 1e-300))


def assess_candidate(
    seeded: Atoms,
    final: Atoms,
    energies: np.ndarray,
    stress: np.ndarray,
    parameters: dict,
    ids: np.ndarray | None = None,
    cohesive_energy: float | None = None,
    source_energies: np.ndarray | None = None,
) -> tuple[Atoms, dict]:
    """Check and score one healed box.

    :param final: the structure LAMMPS returned (same frame as ``seeded``, frozen atoms first, by id).
    :param energies: ``(n,)`` per-atom energies (eV) of ``final``.
    :param stress: ``(3, 3)`` GPa, in the frame of ``final``.
    :param ids: ``(n,)`` LAMMPS ids of ``final``'s atoms (``seeded``'s atom k had id k + 1); without them
        the buffer atoms cannot be told from inserted ones.
    :param cohesive_energy: the EIP's energy per atom of the perfect crystal (eV), for the ideal embedding.
    :param source_energies: ``(n,)`` energies (eV) of the cluster's atoms in the source simulation, by
        input index: the ideal embedding keeps each cluster atom of the cell at its source energy
        (``ideal_gap``), or only the frozen ones (``frozen_gap``), the rest at the cohesive energy.
    :returns: ``(cell, figures)``: ``cell`` with the frozen atoms snapped back exactly (when LAMMPS left them
        within 1e-6 A), arrays ``core`` (frozen) and ``source_index`` (input index in the cluster, -1 for an
        inserted atom), ``info['centre']`` (0); ``figures`` with ``valid``, ``problems`` and the figures of merit.
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
    # no hole larger than max_empty_fraction x nn, or than the material's own (up to a vacancy's)
    largest = max(parameters['max_empty_fraction'] * nn, min(seeded.info.get('largest_hole', 0.0), MAX_EMPTY_FRACTION * nn))
    problems = cell_problems(
        cell,
        seeded.positions[:n_core],
        nn,
        lambda points: region.outside(points, cell.cell[:]),
        min_distance_fraction=parameters['min_distance_fraction'],
        max_empty_fraction=largest / nn,
        max_atoms=parameters['max_atoms'],
    )
    mobile = np.arange(n_core, len(cell))
    intruders = int(np.sum(region.distance(cell.positions[mobile], cell.cell[:]) < region.radius - 0.5 * nn))
    if intruders:
        problems.append(f'{intruders} mobile atom(s) moved into the frozen region')
    buffer = list(seeded.info.get('buffer', []))
    source_index = np.full(len(cell), -1)
    source_index[:n_core] = seeded.info['core_index']
    kept, lost = buffer, set()
    if ids is not None:
        ids = np.asarray(ids, dtype=int)
        from_buffer = (ids > n_core) & (ids <= n_core + len(buffer))
        source_index[from_buffer] = np.asarray(buffer, dtype=int)[ids[from_buffer] - n_core - 1]
        kept = source_index[from_buffer].tolist()
        lost = set(buffer) - set(kept)  # deleted by Monte Carlo or pushed into the frozen region
    inserted = np.flatnonzero(source_index[n_core:] < 0) + n_core if ids is not None else mobile
    natoms = len(cell)
    energy = float(np.sum(energies))
    fractions = structure_fractions(adaptive_cna(cell, inserted)) if len(inserted) else structure_fractions([])
    figures = {
        'natoms': natoms,
        'n_core': n_core,
        'n_buffer': len(kept),
        'n_inserted': int(len(inserted)),
        'trimmed': sorted(set(seeded.info['trimmed']) | lost),
        'energy': energy,
        'energy_per_atom': energy / natoms,
        'stress': np.asarray(stress).tolist(),
        'max_abs_stress': float(np.abs(stress).max()),
        'max_abs_relaxable_stress': float(
            max(abs(lammps_stress[_STRESS_INDEX[c]]) for c in RELAXABLE[len(region_info['periodic_axes'])])
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
        if source_energies is not None:
            from_cluster = source_index[source_index >= 0]
            ideal = (np.sum(source_energies[from_cluster]) + (natoms - len(from_cluster)) * cohesive_energy) / natoms
            frozen = (np.sum(source_energies[source_index[:n_core]]) + (natoms - n_core) * cohesive_energy) / natoms
            figures['ideal_energy_per_atom'] = ideal
            figures['ideal_gap'] = energy / natoms - ideal
            figures['frozen_gap'] = energy / natoms - frozen
    cell.arrays['core'] = np.arange(natoms) < n_core
    cell.arrays['source_index'] = source_index
    cell.info['energy'] = energy
    cell.info['centre'] = 0
    return cell, figures
