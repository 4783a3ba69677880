"""PCC-GCMC on real LAMMPS: perfect crystal back, a screw core kept, vacancies kept, impossible boxes refused."""

import numpy as np
import pytest
from ase.build import bulk

from aiida_defectgenome.core import lammps_input
from aiida_defectgenome.core.box_search import ImpossibleBox
from aiida_defectgenome.core.clusters import cut_neighbourhood
from aiida_defectgenome.core.gcmc import cohesive_energy, plan_boxes, prepare_cluster, run_pcc_gcmc, validate_pcc_parameters
from aiida_defectgenome.core.geometry import minimum_image
from aiida_defectgenome.core.potentials import bundled_potential
from aiida_defectgenome.core.structure_analysis import adaptive_cna, structure_fractions

from ..defect_cells import A0, grain_boundary, screw_dislocation, vacancy_cluster

E_COH = -8.75999  # EAM-Zhou W
FAST = {'boxes': 1, 'gcmc_steps': 200}


@pytest.fixture(scope='module')
def eam():
    return bundled_potential('eam-zhou-W')


def test_adaptive_cna_knows_the_three_metal_lattices_and_a_vacancy():
    for atoms, name in [
        (bulk('W', 'bcc', a=A0, cubic=True) * 3, 'bcc'),
        (bulk('Cu', 'fcc', a=3.61, cubic=True) * 3, 'fcc'),
        (bulk('Mg', 'hcp', a=3.21, c=5.21) * (3, 3, 3), 'hcp'),
    ]:
        atoms.rattle(0.05, seed=1)
        assert structure_fractions(adaptive_cna(atoms))[name] == 1.0
    vacancy = bulk('W', 'bcc', a=A0, cubic=True) * 3
    del vacancy[0]
    assert structure_fractions(adaptive_cna(vacancy))['other'] == pytest.approx(14 / 53)  # its 14 neighbours


def test_cohesive_energy_of_the_eip(eam):
    assert cohesive_energy(eam, 'W') == pytest.approx(E_COH, abs=1e-4)


@pytest.mark.parametrize('angle', [0.0, 20.0])
def test_a_cluster_of_perfect_bcc_comes_back_as_perfect_crystal(eam, angle):
    source = bulk('W', 'bcc', a=A0, cubic=True) * 8
    source.rotate(angle, (1, 2, 3), rotate_cell=True)
    cluster = cut_neighbourhood(source, 100, radius=5.0)
    result = run_pcc_gcmc(cluster, eam, FAST, source_energies=np.full(len(cluster), E_COH), cohesive=E_COH)
    best = result.candidates[result.chosen]
    assert best['valid'] and best['inserted_structure']['bcc'] == 1.0
    assert best['energy_per_atom'] == pytest.approx(E_COH, abs=0.01)
    assert abs(best['ideal_gap']) < 0.01
    core = result.cell.positions[: len(cluster)]
    assert np.allclose(core - core[0], cluster.positions - cluster.positions[0], atol=1e-12)
    assert result.cell.arrays['core'].sum() == len(cluster)


def test_source_energies_follow_the_clusters_own_atom_order(eam):
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 8, 100, radius=5.0)
    distance = np.linalg.norm(cluster.positions - cluster.positions[0], axis=1)
    cluster.arrays['core_mask'] = distance < 4.0  # outer atoms mobile, interleaved with core ones
    order = np.argsort(-distance, kind='stable')
    cluster = cluster[order]  # mobile atoms first: the core is not a prefix
    cluster.info['centre_index'] = int(np.flatnonzero(order == 0)[0])
    energies = np.where(cluster.arrays['core_mask'], E_COH, 100.0)  # a wrong index would show
    result = run_pcc_gcmc(cluster, eam, FAST, source_energies=energies, cohesive=E_COH)
    # one mobile atom counted as core would add 108 eV / ~130 atoms to the ideal energy: gap < -0.8
    assert all(abs(candidate['ideal_gap']) < 0.5 for candidate in result.candidates)


def test_a_screw_dislocation_core_stays_intact_periodic_along_its_line(eam):
    source, site = screw_dislocation()
    centre = int(np.argmin(np.linalg.norm(source.positions - site[0], axis=1)))
    cluster = cut_neighbourhood(source, centre, radius=8.0, periodic_axes=(2,))
    energies = source.arrays['energies'][cluster.arrays['source_index']]
    result = run_pcc_gcmc(cluster, eam, {'boxes': 2, 'gcmc_steps': 200}, source_energies=energies, cohesive=E_COH)
    best = result.candidates[result.chosen]
    assert best['valid'], best['problems']  # no vacuum pocket, no close pair, core exact, <= 150 atoms
    core = result.cell.positions[: len(cluster)]
    assert np.allclose(core - core[0], cluster.positions - cluster.positions[0], atol=1e-12)
    assert np.allclose(result.cell.cell[0], cluster.cell[2])  # the line's period, unchanged, comes first
    assert best['ideal_gap'] < 0.10
    assert best['fill_fraction'] == pytest.approx(1.0, abs=0.02)


def test_the_clusters_own_vacancies_are_not_refilled(eam):
    source, sites = vacancy_cluster()
    centre = int(np.argmin(np.linalg.norm(source.positions - sites.mean(axis=0), axis=1)))
    cluster = cut_neighbourhood(source, centre, radius=6.0)
    result = run_pcc_gcmc(cluster, eam, FAST, cohesive=E_COH)
    best = result.candidates[result.chosen]
    assert best['valid'], best['problems']
    relative = minimum_image(sites - source.positions[centre], source.cell[:], source.pbc)
    vacancies = result.cell.positions[0] + relative  # the centre atom stays first
    distances = np.linalg.norm(
        minimum_image((result.cell.positions[None] - vacancies[:, None]).reshape(-1, 3), result.cell.cell[:], [True] * 3), axis=1
    )
    assert distances.min() > 0.5 * A0 * np.sqrt(3) / 2  # all four vacancies are still empty


def test_a_cluster_too_large_for_the_atom_budget_is_refused_early(eam):
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 10, 555, radius=8.0)
    with pytest.raises(ImpossibleBox, match=r'no periodic box holds this 137-atom cluster within 150 atoms .* raise max_atoms'):
        run_pcc_gcmc(cluster, eam, FAST, cohesive=E_COH)


def test_a_grain_boundary_sphere_gets_boxes_off_its_two_lattices_and_cells_with_pockets_are_not_chosen(eam):
    source, _ = grain_boundary()
    centre = int(np.argmin(np.abs(source.positions[:, 2]) + 0.1 * np.linalg.norm(source.positions[:, :2], axis=1)))
    cluster = cut_neighbourhood(source, centre, radius=6.0)
    ordered, n_core, region = prepare_cluster(cluster)
    plan = plan_boxes(ordered, n_core, region, validate_pcc_parameters(FAST))
    assert len(plan.translations) == 0  # no single crystal to seed from: GCMC fills the box from empty
    assert not any(box.commensurate for box in plan.boxes) and plan.boxes[0].estimated_atoms <= 150
    result = run_pcc_gcmc(cluster, eam, FAST, cohesive=E_COH)  # 200 steps: far too few to fill it
    assert result.chosen is None and result.cell is None
    assert all(not c['valid'] and any('vacuum pocket' in p for p in c['problems']) for c in result.candidates)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match='unknown PCC-GCMC parameter'):
        validate_pcc_parameters({'box': 3})
    with pytest.raises(ValueError, match='max_atoms must be a positive integer'):
        validate_pcc_parameters({'max_atoms': 0})
    with pytest.raises(ValueError, match='no core atom'):
        prepare_cluster(bulk('W', 'bcc', a=A0) * 2, core_mask=np.zeros(8, bool))


def test_gcmc_stage_keeps_inserted_atoms_out_of_the_region_and_frozen_atoms_have_their_own_type():
    parameters = lammps_input.validate_parameters(
        {
            'frozen': 3,
            'stages': [
                {'type': 'gcmc', 'steps': 10, 'region': {'centre': [1, 1, 1], 'radius': 2.0, 'periodic_axes': []}},
                {'type': 'minimize', 'box_relax': ['x', 'yz']},
            ],
        }
    )
    script = lammps_input.render_input(parameters, ['pair_style zero 1'], [True] * 3, cell=np.eye(3) * 10)
    assert 'region dg_kept sphere 1 1 1 2 side in' in script
    assert 'fix dg_keep_out dg_mobile evaporate' in script and 'full_energy group dg_mobile' in script
    assert 'box/relax x 0 yz 0 couple none vmax 0.001 dilate partial' in script
    assert 'set group dg_frozen x v_dg_x0 y v_dg_y0 z v_dg_z0' in script
    assert lammps_input.atom_types(['W', 'W', 'Mo', 'W'], ['Mo', 'W'], frozen=2) == [4, 4, 1, 2]
    with pytest.raises(ValueError, match='periodic_axes must be'):
        lammps_input.validate_parameters(
            {'stages': [{'type': 'gcmc', 'region': {'centre': [0, 0, 0], 'radius': 1.0, 'periodic_axes': [2]}}]}
        )
