"""PCC-GCMC before LAMMPS: rows, seeding that follows a deformed crystal of any lattice, hole filling, boxes."""

import re

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from aiida_defectgenome.core.doptimality.clusters import cut_neighbourhood
from aiida_defectgenome.core.pcc_gcmc import gcmc
from aiida_defectgenome.core.pcc_gcmc.box_search import ImpossibleBox
from aiida_defectgenome.core.pcc_gcmc.cell_checks import nearest_neighbour_distance
from aiida_defectgenome.core.pcc_gcmc.cells import plan_boxes, prepare_cluster, seeded_boxes
from aiida_defectgenome.core.pcc_gcmc.lattice_seeding import CoreRegion, fill_holes, image_shifts, row_translations
from aiida_defectgenome.core.structures.analysis import adaptive_cna, structure_fractions

from ..defect_cells import A0


def seeded_cell(source: Atoms, centre: int, radius: float = 8.0, **parameters):
    """The first seeded box of the cluster cut from ``source`` around ``centre``, and the plan."""
    cluster = cut_neighbourhood(source, centre, radius=radius)
    settings = gcmc.validate_pcc_parameters({'boxes': 1, **parameters})
    prepared = prepare_cluster(cluster, gcmc.core_mask_of(cluster), settings['core_radius'])
    plan = plan_boxes(prepared, settings)
    return seeded_boxes(prepared, plan, settings)[0][1], plan


def distinct_rows(atoms: Atoms) -> np.ndarray:
    """The translations of the rows through the atom nearest the middle of ``atoms``."""
    nn = nearest_neighbour_distance(atoms.positions)
    middle, vectors = row_translations(atoms.positions, atoms.numbers, nn)
    centre = np.argmin(np.linalg.norm(atoms.positions - atoms.positions.mean(axis=0), axis=1))
    return vectors[middle == centre]


def test_rows_of_bcc_are_its_first_second_and_third_neighbour_translations():
    lengths = np.sort(np.linalg.norm(distinct_rows(bulk('W', 'bcc', a=A0, cubic=True) * 5), axis=1))
    assert len(lengths) == 26
    assert np.allclose(lengths, np.repeat(np.array([np.sqrt(3) / 2, 1.0, np.sqrt(2)]) * A0, [8, 6, 12]))


def test_rows_of_hcp_are_its_translations_not_the_vectors_between_layers():
    rows = distinct_rows(bulk('Mg', 'hcp', a=3.21, c=5.21) * (5, 5, 4))
    assert len(rows) == 8  # six in the basal plane, +-c; no row joins two layers
    in_plane = np.abs(rows[:, 2]) < 1e-9
    assert in_plane.sum() == 6 and np.allclose(np.abs(rows[~in_plane, 2]), 5.21)


def lattice_offsets(positions: np.ndarray, origin: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``(n,)`` distance (A) of each position from the nearest site of the lattice ``basis`` through ``origin``."""
    fractional = np.linalg.solve(basis.T, (positions - origin).T).T
    return np.linalg.norm((fractional - np.round(fractional)) @ basis, axis=1)


@pytest.mark.parametrize(
    'deformation',
    [np.eye(3), np.array([[1.02, 0.01, 0.0], [0.01, 0.99, 0.0], [0.0, 0.0, 1.0]])],
    ids=['rotated', 'rotated and strained'],
)
def test_seeding_continues_a_rotated_strained_crystal_site_for_site(deformation):
    source = bulk('W', 'bcc', a=A0, cubic=True) * 10
    source.set_cell(source.cell[:] @ deformation, scale_atoms=True)
    source.rotate(23, (1, 2, 3), rotate_cell=True)
    seeded, plan = seeded_cell(source, 1000)
    offsets = lattice_offsets(seeded.positions, seeded.positions[0], plan.basis)
    assert offsets.max() < 1e-6  # every atom, cluster and seeded, on the cluster's own (deformed) lattice
    assert len(seeded) == round(seeded.get_volume() / abs(np.linalg.det(plan.basis)))  # no site missing or doubled
    assert structure_fractions(adaptive_cna(seeded))['bcc'] == 1.0


def test_seeding_a_thermal_snapshot_misses_no_site():
    source = bulk('W', 'bcc', a=A0, cubic=True) * 10
    source.rattle(0.08, seed=3)  # about 1200 K in W
    seeded, plan = seeded_cell(source, 1000)
    assert len(seeded) == round(seeded.get_volume() / abs(np.linalg.det(plan.basis)))
    assert structure_fractions(adaptive_cna(seeded))['bcc'] == 1.0


@pytest.mark.parametrize(
    'crystal, structure',
    [(bulk('Cu', 'fcc', a=3.615, cubic=True) * 8, 'fcc'), (bulk('Mg', 'hcp', a=3.209, c=5.211) * (8, 8, 5), 'hcp')],
)
def test_seeding_knows_no_lattice_type(crystal, structure):
    crystal.rotate(17, (2, -1, 3), rotate_cell=True)
    centre = int(np.argmin(np.linalg.norm(crystal.positions - crystal.cell.sum(axis=0) / 2, axis=1)))
    seeded, plan = seeded_cell(crystal, centre)
    assert plan.basis is not None
    assert len(seeded) == round(seeded.get_volume() / crystal.get_volume() * len(crystal))
    assert structure_fractions(adaptive_cna(seeded))[structure] == 1.0


def test_fill_holes_fills_a_vacancy_outside_the_region_but_not_inside_nor_a_perfect_crystals_holes():
    crystal = bulk('W', 'bcc', a=A0, cubic=True) * 5
    nn = A0 * np.sqrt(3) / 2
    region = CoreRegion(crystal.positions[0], 5.0, np.zeros((0, 3)))
    far = int(np.argmax(region.distance(crystal.positions, crystal.cell[:])))
    vacancies = crystal.positions[[1, far]]  # atom 1 sits inside the region, `far` outside
    holed = crystal.copy()
    del holed[[1, far]]
    filled = fill_holes(holed, region, nn, 0.75)
    assert len(filled) == len(holed) + 1
    added = filled.positions[-1]
    assert np.linalg.norm(added - vacancies[1]) < 0.2 and np.linalg.norm(added - vacancies[0]) > 1.0
    assert len(fill_holes(crystal, region, nn, 0.75)) == len(crystal)  # tetrahedral holes are 0.65 nn
    copper = bulk('Cu', 'fcc', a=3.615, cubic=True) * 4  # octahedral holes are 0.71 nn
    assert len(fill_holes(copper, CoreRegion(copper.positions[0], 3.0, np.zeros((0, 3))), 3.615 / np.sqrt(2), 0.75)) == len(copper)


def test_every_box_keeps_the_frozen_region_clear_of_its_images():
    source = bulk('W', 'bcc', a=A0, cubic=True) * 10
    source.rotate(31, (1, 1, 2), rotate_cell=True)
    cluster = cut_neighbourhood(source, 1000, radius=8.0)
    settings = gcmc.validate_pcc_parameters({})
    prepared = prepare_cluster(cluster, gcmc.core_mask_of(cluster), settings['core_radius'])
    plan = plan_boxes(prepared, settings)
    core = prepared.atoms.positions[: prepared.n_core]
    for box in plan.boxes:  # sheared cells too: images three box vectors away are checked
        images = (core[None] + image_shifts(box.cell, reach=3)[1:, None]).reshape(-1, 3)
        assert prepared.region.distance(images).min() > prepared.region.radius
        assert box.estimated_atoms <= 150


def test_a_frozen_core_too_large_for_the_budget_is_refused_with_what_would_fit():
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 10, 555, radius=8.0)
    settings = gcmc.validate_pcc_parameters({'max_atoms': 80})
    prepared = prepare_cluster(cluster, gcmc.core_mask_of(cluster), settings['core_radius'])
    with pytest.raises(
        ImpossibleBox, match=r'radius 6.50 A, 65 atoms.* raise max_atoms to \d+, or freeze a smaller region'
    ) as refusal:
        plan_boxes(prepared, settings)
    needed = int(re.search(r'raise max_atoms to (\d+)', str(refusal.value)).group(1))
    radius = float(re.search(r'core radius (\d\.\d) A or less fits about 80 atoms', str(refusal.value)).group(1))
    assert plan_boxes(prepared, gcmc.validate_pcc_parameters({'max_atoms': needed})).boxes  # what it names fits
    smaller = prepare_cluster(cluster, gcmc.core_mask_of(cluster), radius)
    assert plan_boxes(smaller, gcmc.validate_pcc_parameters({'max_atoms': 80, 'core_radius': radius})).boxes


def test_the_frozen_core_is_the_central_atoms_environment():
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 10, 555, radius=8.0)
    cluster = cluster[::-1]  # the central atom is last now
    cluster.info['centre_index'] = len(cluster) - 1
    prepared = prepare_cluster(cluster, gcmc.core_mask_of(cluster), 6.5)
    distance = np.linalg.norm(cluster.positions - cluster.positions[-1], axis=1)
    assert prepared.order[0] == len(cluster) - 1 and prepared.n_core == np.sum(distance <= 6.5)
    assert np.all(np.linalg.norm(prepared.atoms.positions[: prepared.n_core] - prepared.atoms.positions[0], axis=1) <= 6.5)
    with pytest.raises(ValueError, match='central atom 3 is not marked core'):
        mask = np.ones(len(cluster), dtype=bool)
        mask[3] = False
        prepare_cluster(cluster, mask, 6.5, centre_index=3)
