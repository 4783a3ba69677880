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
