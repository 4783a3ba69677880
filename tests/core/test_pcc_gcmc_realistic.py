"""PCC-GCMC on clusters cut from relaxed simulations, judged by checks of its own, not by its figures.

The default run covers the relaxed screw core and the tetra-vacancy (``test_pcc_gcmc.py``); these are the
other kinds of defect of ``tests/realistic_clusters.py`` (slow: each source is a relaxation of >= 2,000
atoms). ``benchmarks/pcc_gcmc.py`` runs all of them, and the clusters that ``sample`` gives, at full length.
"""

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor
from aiida_defectgenome.core.lammps.potentials import bundled_potential
from aiida_defectgenome.core.pcc_gcmc.gcmc import run_pcc_gcmc

from ..defect_cells import A0
from ..realistic_clusters import realistic_cluster

E_COH = -8.75999  # EAM-Zhou W
NN = A0 * np.sqrt(3) / 2
FAST = {'boxes': 2, 'gcmc_steps': 300}

pytestmark = pytest.mark.slow


@pytest.mark.parametrize('key', ['edge', 'mixed', 'crack tip', 'interstitials'])
def test_a_relaxed_defect_gets_a_cell_that_holds_its_core_bit_for_bit(key):
    cluster = realistic_cluster(key).cluster
    result = run_pcc_gcmc(
        cluster, bundled_potential('eam-zhou-W'), FAST, source_energies=cluster.arrays['energies'], cohesive=E_COH
    )
    assert result.chosen is not None, [c['problems'] for c in result.candidates]
    cell, best = result.cell, result.candidates[result.chosen]
    assert len(cell) <= 150 and best['ideal_gap'] < 0.25

    frozen = cell.arrays['core']
    source = cell.arrays['source_index'][frozen]
    assert frozen.sum() == result.source['n_core'] and source[0] == cluster.info.get('centre_index', 0)
    moved = (cell.positions[frozen] - cell.positions[0]) - (cluster.positions[source] - cluster.positions[source[0]])
    assert np.abs(moved).max() < 1e-9  # the frozen atoms, as cut, relative to the central one

    first, second, distance = neighbor_list('ijd', cell, 0.75 * NN)
    assert len(distance) == 0, f'{len(first)} pairs closer than 0.75 nn'  # no atom placed on another

    snap = SnapDescriptor()
    before, after = snap.compute(cluster)[source[0]], snap.compute(cell)[0]
    assert np.linalg.norm(after - before) <= 1e-6 * np.linalg.norm(before)  # the central environment, unchanged


def _relaxed_copper(atoms):
    """``atoms`` relaxed with Mishin's Cu EAM (a held ``fixed`` shell first), per-atom energies in ``energies``."""
    from aiida_defectgenome.core.lammps.local import run_lammps

    from .test_lattices import CU

    frozen = 0
    if 'fixed' in atoms.arrays:
        atoms = atoms[np.argsort(~atoms.arrays['fixed'], kind='stable')]
        frozen = int(atoms.arrays['fixed'].sum())
    stages = [{'type': 'minimize', 'etol': 0.0, 'ftol': 1e-6, 'maxiter': 20000}]
    result = run_lammps(atoms, CU, {'stages': stages, 'frozen': frozen})
    relaxed = result['atoms']
    relaxed.arrays['energies'] = np.asarray(result['energies'])
    relaxed.info.update(atoms.info)
    return relaxed


def _cut_at_defect(relaxed, periodic_axes=()):
    """The 8 A cluster around the non-fcc atom nearest the dislocation line (or the cell's centre)."""
    from aiida_defectgenome.core.doptimality.clusters import cut_neighbourhood
    from aiida_defectgenome.core.structures.analysis import adaptive_cna

    defect = np.flatnonzero(adaptive_cna(relaxed) != 'fcc')
    if 'line' in relaxed.info:
        distance = np.hypot(*(relaxed.positions[defect, :2] - relaxed.info['line']).T)
    else:
        distance = np.linalg.norm(relaxed.positions[defect] - relaxed.cell.lengths() / 2, axis=1)
    cluster = cut_neighbourhood(relaxed, int(defect[np.argmin(distance)]), radius=8.0, periodic_axes=periodic_axes)
    cluster.arrays['energies'] = relaxed.arrays['energies'][cluster.arrays['source_index']]
    return cluster


def test_an_fcc_partial_dislocation_core_gets_a_cell_of_fcc_around_it():
    """Issue 23: the cluster of a dissociated edge dislocation in Cu (cut from a relaxed 2,892-atom cylinder)."""
    from aiida_defectgenome.core.structures.analysis import adaptive_cna, structure_fractions
    from aiida_defectgenome.core.structures.dislocations import FCC_CHARACTERS, straight_dislocation

    from .test_lattices import CU, CU_A

    burgers, line, normal = FCC_CHARACTERS['edge']
    source = _relaxed_copper(straight_dislocation('Cu', CU_A, burgers, line, normal, 'fcc', radius=35.0, periods=2))
    assert len(source) >= 2000
    cluster = _cut_at_defect(source, periodic_axes=(2,))
    result = run_pcc_gcmc(cluster, CU, FAST, source_energies=cluster.arrays['energies'])
    assert result.chosen is not None, [c['problems'] for c in result.candidates]
    cell, best = result.cell, result.candidates[result.chosen]
    assert len(cell) <= 150 and best['ideal_gap'] < 0.05
    inserted = cell.arrays['source_index'] < 0
    assert structure_fractions(adaptive_cna(cell)[inserted])['fcc'] > 0.7  # copper goes on as fcc copper
    snap = SnapDescriptor()
    before, after = snap.compute(cluster)[0], snap.compute(cell)[0]
    assert np.linalg.norm(after - before) <= 1e-6 * np.linalg.norm(before)


def test_a_copper_cluster_too_dense_for_the_budget_is_refused_with_a_radius_that_then_fits():
    """An 8 A sphere around a stacking fault in Cu: 90 frozen atoms (W: 57-74) need a cell of about 165 atoms;
    the refusal's own smaller radius gives a valid cell of at most 150."""
    import re

    from aiida_defectgenome.core.pcc_gcmc.box_search import ImpossibleBox
    from aiida_defectgenome.core.structures.faults import stacking_fault
    from aiida_defectgenome.core.structures.scenarios import oriented_crystal

    from .test_lattices import CU, CU_111, CU_A

    source = _relaxed_copper(stacking_fault(oriented_crystal('Cu', CU_A, 'fcc', CU_111, size=(30, 30, 30))))
    cluster = _cut_at_defect(source)
    with pytest.raises(
        ImpossibleBox, match=r'needs a periodic cell of \d+ atoms or more \(its images .* A apart\), more than max_atoms 150'
    ) as refusal:
        run_pcc_gcmc(cluster, CU, FAST, source_energies=cluster.arrays['energies'])
    needed = int(re.search(r'raise max_atoms to (\d+)', str(refusal.value)).group(1))
    radius = float(re.search(r'core radius (\d+\.\d) A or less fits about 150', str(refusal.value)).group(1))
    assert needed > 150 and 5.0 <= radius < 6.5
    result = run_pcc_gcmc(cluster, CU, {**FAST, 'core_radius': radius}, source_energies=cluster.arrays['energies'])
    assert result.chosen is not None and len(result.cell) <= 150
