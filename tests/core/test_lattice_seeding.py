"""PCC-GCMC, first stage: the cluster's own crystal grown around it, and the validity checks."""

import numpy as np
import pytest
from ase.build import bulk

from aiida_defectgenome.core.box_search import candidate_boxes
from aiida_defectgenome.core.cell_checks import cell_problems, nearest_neighbour_distance
from aiida_defectgenome.core.clusters import cut_neighbourhood
from aiida_defectgenome.core.lattice_seeding import CoreRegion, box_around, core_region, lattice_translations, seed_lattice

from ..defect_cells import relax_eam

A0, E_COH = 3.16485, -8.75999  # EAM-Zhou W


def relax_outside_core(cell, core):
    """Minimise the atoms after the first ``core`` with EAM-Zhou; return (cell, energy per atom)."""
    relaxed = relax_eam(cell, frozen=core, minimize='minimize 0 1e-8 2000 20000')
    return relaxed, relaxed.info['energy_per_atom']


def grow(cluster, commensurate=True):
    """Seed the cluster's crystal around it in its largest box within 150 atoms (or, with
    ``commensurate=False``, a cube along the cluster's axes that ignores its lattice)."""
    nn = nearest_neighbour_distance(cluster.positions)
    translations = lattice_translations(cluster, nn)
    region = core_region(cluster)
    if commensurate:
        cell = candidate_boxes(cluster, region, translations, nn, max_atoms=150, count=1)[0].cell
    else:
        extent = 2 * region.distance(cluster.positions).max() + 0.8 * nn + 0.5
        cell = np.array(cluster.cell[:])
        for axis in np.flatnonzero(~cluster.pbc):
            cell[axis] = cell[axis] / np.linalg.norm(cell[axis]) * extent
    box, offset = box_around(cluster, region, cell)
    placed = CoreRegion(region.centre + offset, region.radius, region.axes)
    return seed_lattice(box, placed, translations, nn), box, placed, nn, translations


def test_translations_of_bcc_are_its_first_and_second_neighbour_vectors():
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 6, 100, radius=6.0)
    translations = lattice_translations(cluster, nearest_neighbour_distance(cluster.positions))
    lengths = np.sort(np.linalg.norm(translations, axis=1))
    assert len(translations) == 14
    assert np.allclose(lengths[:8], A0 * np.sqrt(3) / 2, atol=0.02) and np.allclose(lengths[8:], A0, atol=0.02)


def test_hcp_translations_leave_out_the_vectors_between_layers():
    cluster = cut_neighbourhood(bulk('Mg', 'hcp', a=3.21, c=5.21) * (6, 6, 4), 60, radius=7.0)
    translations = lattice_translations(cluster, nearest_neighbour_distance(cluster.positions))
    assert len(translations) == 6  # the six in-plane vectors; the c vector is beyond 1.25 x nn
    assert np.allclose(translations[:, 2], 0.0, atol=0.05)


@pytest.mark.parametrize('radius, periodic_axes, atoms', [(5.0, (), 150), (6.0, 'auto', 68)])
def test_perfect_bcc_cluster_comes_back_as_perfect_crystal(radius, periodic_axes, atoms):
    source = bulk('W', 'bcc', a=A0, cubic=True) * (8, 8, 8 if periodic_axes == () else 1)
    cluster = cut_neighbourhood(source, 100, radius=radius, periodic_axes=periodic_axes)
    cell, box, region, nn, _ = grow(cluster)
    assert len(cell) == atoms
    relaxed, energy = relax_outside_core(cell, len(cluster))
    assert energy == pytest.approx(E_COH, abs=0.01)
    assert cell_problems(relaxed, box.positions, nn, region.outside) == []
    if periodic_axes:
        assert np.allclose(cell.cell[2], source.cell[2])  # the line's period is kept


def test_checks_report_every_problem():
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 6, 100, radius=5.0)
    cell, box, region, nn, _ = grow(cluster)
    assert cell_problems(cell, box.positions, nn, region.outside, max_atoms=100) == ['150 atoms, more than the maximum 100']
    moved = cell.copy()
    moved.positions[0] += 1e-9
    assert cell_problems(moved, box.positions, nn, region.outside) == ['core atoms moved']
    crowded = cell.copy()
    crowded.positions[-1] = crowded.positions[-2] + [0.5, 0, 0]
    assert any(p.startswith('closest pair') for p in cell_problems(crowded, box.positions, nn, region.outside))
    holes = cell[: len(cluster) + 20]
    assert any(p.startswith('vacuum pocket') for p in cell_problems(holes, box.positions, nn, region.outside))


def test_an_incommensurate_box_leaves_seams_that_the_checks_catch():
    source = bulk('W', 'bcc', a=A0, cubic=True) * 8
    source.rotate(20, (1, 2, 3), rotate_cell=True)
    cluster = cut_neighbourhood(source, 100, radius=5.0)
    cell, box, region, nn, translations = grow(cluster, commensurate=False)
    assert len(translations) == 14
    relaxed, energy = relax_outside_core(cell, len(cluster))
    assert energy > E_COH + 0.1  # seams: the box search avoids them (tests/core/test_pcc_gcmc.py)
    assert cell_problems(relaxed, box.positions, nn, region.outside)
