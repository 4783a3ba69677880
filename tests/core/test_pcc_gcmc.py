"""PCC-GCMC on real LAMMPS: perfect crystal back, relaxed defects kept, their environment unchanged, refusals explained."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from aiida_defectgenome.core.doptimality.clusters import cut_neighbourhood
from aiida_defectgenome.core.lammps import inputs as lammps_input
from aiida_defectgenome.core.lammps.local import run_lammps
from aiida_defectgenome.core.lammps.potentials import bundled_potential
from aiida_defectgenome.core.pcc_gcmc.box_search import ImpossibleBox
from aiida_defectgenome.core.pcc_gcmc.cells import box_run_parameters
from aiida_defectgenome.core.pcc_gcmc.gcmc import cohesive_energy, fallback_parameters, run_pcc_gcmc, validate_pcc_parameters
from aiida_defectgenome.core.pcc_gcmc.lattice_seeding import CoreRegion
from aiida_defectgenome.core.structures.analysis import adaptive_cna, structure_fractions
from aiida_defectgenome.core.structures.geometry import minimum_image

from ..defect_cells import A0
from ..realistic_clusters import realistic_cluster

E_COH = -8.75999  # EAM-Zhou W
NN = A0 * np.sqrt(3) / 2
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
def test_an_8_A_cluster_of_perfect_bcc_comes_back_as_perfect_crystal(eam, angle):
    source = bulk('W', 'bcc', a=A0, cubic=True) * 8
    source.rotate(angle, (1, 2, 3), rotate_cell=True)
    cluster = cut_neighbourhood(source, 100, radius=8.0)
    result = run_pcc_gcmc(cluster, eam, FAST, source_energies=np.full(len(cluster), E_COH), cohesive=E_COH)
    best = result.candidates[result.chosen]
    assert best['valid'] and best['natoms'] <= 150 and best['inserted_structure']['bcc'] == 1.0
    assert abs(best['ideal_gap']) < 0.002 and best['environment_change'] < 1e-9
    frozen = np.linalg.norm(cluster.positions - cluster.positions[0], axis=1) <= 6.5
    assert result.source['n_core'] == frozen.sum() == result.cell.arrays['core'].sum()
    core = result.cell.positions[: frozen.sum()]
    order = result.cell.arrays['source_index'][: frozen.sum()]
    assert np.allclose(core - core[0], cluster.positions[order] - cluster.positions[0], atol=1e-12)  # bit for bit
    assert result.cell.info['centre'] == 0 and order[0] == 0


def test_the_ideal_embedding_takes_each_kept_cluster_atom_at_its_own_source_energy(eam):
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 8, 100, radius=8.0)
    order = np.random.default_rng(1).permutation(len(cluster))
    cluster = cluster[order]  # the central atom is somewhere in the middle now
    cluster.info['centre_index'] = int(np.flatnonzero(order == 0)[0])
    energies = E_COH + 1e-3 * np.arange(len(cluster))  # a mix-up of atoms would show
    result = run_pcc_gcmc(cluster, eam, FAST, source_energies=energies, cohesive=E_COH)
    best, cell = result.candidates[result.chosen], result.cell
    source = cell.arrays['source_index']
    assert sorted(best['trimmed']) == sorted(set(range(len(cluster))) - set(source[source >= 0]))
    ideal = (energies[source[source >= 0]].sum() + np.sum(source < 0) * E_COH) / len(cell)
    assert best['ideal_energy_per_atom'] == pytest.approx(ideal, abs=1e-12)
    assert source[0] == cluster.info['centre_index']  # the central atom first


def test_a_relaxed_8_A_tetra_vacancy_keeps_its_vacancies_and_its_central_environment(eam):
    case = realistic_cluster('tetra-vacancy')
    result = run_pcc_gcmc(case.cluster, eam, FAST, source_energies=case.cluster.arrays['energies'], cohesive=E_COH)
    best, cell = result.candidates[result.chosen], result.cell
    assert best['valid'], best['problems']
    assert best['environment_change'] < 1e-6 and best['ideal_gap'] < 0.01 and best['natoms'] <= 150
    vacancies = cell.positions[0] + case.empty_sites  # the central atom stays first
    gaps = minimum_image((cell.positions[None] - vacancies[:, None]).reshape(-1, 3), cell.cell[:], [True] * 3)
    assert np.linalg.norm(gaps, axis=1).min() > 0.8 * NN  # all four still empty


def test_a_relaxed_screw_core_periodic_along_its_line_gets_a_cell(eam):
    case = realistic_cluster('screw')
    result = run_pcc_gcmc(
        case.cluster, eam, {'boxes': 2, 'gcmc_steps': 200}, source_energies=case.cluster.arrays['energies'], cohesive=E_COH
    )
    best = result.candidates[result.chosen]
    assert best['valid'], best['problems']
    assert best['environment_change'] < 1e-6 and best['ideal_gap'] < 0.10 and best['natoms'] <= 150
    assert np.allclose(result.cell.cell[0], case.cluster.cell[2])  # the line's period, unchanged, comes first


def test_a_frozen_core_too_large_for_the_budget_is_refused_early_with_what_would_fit(eam):
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 10, 555, radius=8.0)
    with pytest.raises(ImpossibleBox, match=r'raise max_atoms to \d+, or freeze a smaller region \(core radius'):
        run_pcc_gcmc(cluster, eam, {**FAST, 'max_atoms': 80}, cohesive=E_COH)


def test_a_cluster_cut_smaller_than_the_descriptor_cutoff_is_frozen_whole_and_not_checked(eam):
    cluster = cut_neighbourhood(bulk('W', 'bcc', a=A0, cubic=True) * 6, 100, radius=3.0)
    result = run_pcc_gcmc(cluster, eam, {**FAST, 'max_atoms': 40}, cohesive=E_COH)
    best = result.candidates[result.chosen]
    assert best['valid'] and best['environment_change'] is None and result.source['n_core'] == len(cluster)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match='unknown PCC-GCMC parameter'):
        validate_pcc_parameters({'box': 3})
    with pytest.raises(ValueError, match='max_atoms must be a positive integer'):
        validate_pcc_parameters({'max_atoms': 0})
    with pytest.raises(ValueError, match=r'core_radius must be a number of at least the descriptor cutoff \(5 A\)'):
        validate_pcc_parameters({'core_radius': 4.0})
    assert validate_pcc_parameters({})['core_radius'] == 6.5
    with pytest.raises(ValueError, match=r'anneal must be a number from 0 to 0.1'):
        validate_pcc_parameters({'anneal': 300.0})  # a temperature in K where k_B T / |E_coh| is meant
    with pytest.raises(ValueError, match='boxes must be a positive integer'):
        validate_pcc_parameters({'fallback': {'boxes': 0}})
    with pytest.raises(ValueError, match='not fallback itself'):
        validate_pcc_parameters({'fallback': {'fallback': None}})
    assert fallback_parameters(validate_pcc_parameters({'fallback': None})) is None
    second = fallback_parameters(validate_pcc_parameters({'boxes': 3}))
    assert (second['boxes'], second['relax_box'], second['anneal'], second['fallback']) == (3, False, 0.025, None)


def test_an_anneal_runs_the_mobile_atoms_hot_after_the_first_fill_at_a_fraction_of_the_cohesive_energy():
    seeded = bulk('W', 'bcc', a=A0, cubic=True) * 3
    seeded.info.update(n_core=2, nn_distance=NN, region={'centre': [0.0, 0.0, 0.0], 'radius': 3.0, 'periodic_axes': []})
    plain = box_run_parameters(seeded, validate_pcc_parameters({}))
    hot = box_run_parameters(seeded, fallback_parameters(validate_pcc_parameters({})), cohesive=E_COH)
    assert 'md' not in [stage['type'] for stage in plain['stages']]
    kinds = [stage['type'] for stage in hot['stages']]
    assert kinds == ['minimize', 'fill', 'md', 'gcmc', 'minimize', 'fill', 'minimize']  # the box kept: no box relaxation
    assert not any(stage.get('box_relax') for stage in hot['stages'])
    anneal = hot['stages'][2]
    assert anneal['temperature'] == pytest.approx(0.025 * 8.75999 / 8.617333e-5, rel=1e-6) and anneal['steps'] == 1000
    with pytest.raises(ValueError, match="needs the EIP's cohesive energy"):
        box_run_parameters(seeded, {**validate_pcc_parameters({}), 'anneal': 0.02})


def test_gcmc_and_fill_stages_keep_out_of_the_region_and_its_images():
    region = {'centre': [1, 1, 1], 'radius': 2.0, 'periodic_axes': []}
    parameters = lammps_input.validate_parameters(
        {
            'frozen': 3,
            'keep_out': {**region, 'radius': 1.5},
            'stages': [
                {'type': 'gcmc', 'steps': 10, 'region': region, 'max_mobile': 40},
                {'type': 'fill', 'distance': 2.0, 'region': region, 'max_atoms': 50},
                {'type': 'minimize', 'box_relax': ['x', 'yz']},
            ],
        }
    )
    script = lammps_input.render_input(parameters, ['pair_style zero 1'], [True] * 3, cell=np.eye(3) * 10)
    # the region itself among its 27 images, each placed from the box when the command runs
    assert 'region dg_kept_13 sphere $(1+0*lx+0*xy+0*xz) $(1+0*ly+0*yz) $(1+0*lz) 2 side in units box' in script
    assert 'region dg_kept union 27' in script and 'fix dg_keep_out dg_inserted evaporate' in script
    assert 'full_energy group dg_mobile group dg_inserted max 40' in script
    assert 'region dg_fillable intersect 28 dg_box' in script and 'if "$(atoms) >= 50" then "jump SELF dg_fill1_done"' in script
    assert script.count('indent 100 sphere') == 27 and 'fix_modify dg_wall13 energy yes' in script
    assert 'box/relax x 0 yz 0 couple none vmax 0.001' in script
    assert 'set group dg_frozen x v_dg_x0 y v_dg_y0 z v_dg_z0 image 0 0 0' in script
    assert lammps_input.atom_types(['W', 'W', 'Mo', 'W'], ['Mo', 'W'], frozen=2) == [4, 4, 1, 2]
    with pytest.raises(ValueError, match='periodic_axes must be'):
        lammps_input.validate_parameters(
            {'stages': [{'type': 'gcmc', 'region': {'centre': [0, 0, 0], 'radius': 1.0, 'periodic_axes': [2]}}]}
        )
    with pytest.raises(ValueError, match='distance'):
        lammps_input.validate_parameters({'stages': [{'type': 'fill', 'region': region}]})


def test_fill_puts_atoms_back_into_vacancies_outside_the_region_only(eam):
    crystal = bulk('W', 'bcc', a=A0, cubic=True) * 5
    centre = crystal.positions[62]
    region = CoreRegion(centre, 4.0, np.zeros((0, 3)))
    distance = region.distance(crystal.positions, crystal.cell[:])
    inside, outside = [int(np.argmin(np.abs(distance - 2.7)))], list(np.argsort(-distance)[:3:2])
    frozen = np.flatnonzero(distance <= 4.0)
    holed = crystal[[i for i in np.concatenate([frozen, np.flatnonzero(distance > 4.0)]) if i not in inside + outside]]
    n_frozen = len(frozen) - 1
    stages = [{'type': 'fill', 'distance': 0.78 * NN, 'region': {'centre': centre.tolist(), 'radius': 4.0, 'periodic_axes': []}}]
    result = run_lammps(holed, eam, {'frozen': n_frozen, 'stages': stages})
    assert len(result['atoms']) == len(holed) + 2  # the two vacancies outside, not the one inside
    sites = crystal.positions[inside + outside]
    gaps = np.linalg.norm(
        minimum_image((result['atoms'].positions[None] - sites[:, None]).reshape(-1, 3), crystal.cell[:], [True] * 3), axis=1
    )
    nearest = gaps.reshape(3, -1).min(axis=1)
    assert nearest[0] > 0.8 * NN and np.all(nearest[1:] < 0.3)


def test_two_box_relaxations_around_wrapped_frozen_atoms_lose_none(eam):
    crystal = bulk('W', 'bcc', a=A0, cubic=True) * 4
    crystal.positions += 0.3 * A0  # frozen atoms near the boundary get wrapped and unwrapped
    crystal.set_cell(crystal.cell[:] * 1.01, scale_atoms=True)
    relax = {'type': 'minimize', 'ftol': 1e-6, 'box_relax': ['x', 'y', 'z']}
    result = run_lammps(crystal, eam, {'frozen': 40, 'stages': [relax, relax, relax]})
    assert len(result['atoms']) == len(crystal)
    moved = minimum_image(result['atoms'].positions[:40] - crystal.positions[:40], result['atoms'].cell[:], [True] * 3)
    assert np.abs(moved).max() < 1e-9


def test_the_keep_out_wall_holds_mobile_atoms_out_of_vacuum_in_the_frozen_region(eam):
    crystal = bulk('W', 'bcc', a=A0, cubic=True) * 6
    centre = crystal.cell.sum(axis=0) / 2 + 0.3
    distance = np.linalg.norm(crystal.positions - centre, axis=1)
    below = crystal.positions[:, 2] < centre[2]  # above the plane through the centre: vacuum, as at a crack or surface
    frozen = np.flatnonzero((distance < 6.0) & below)
    angle = np.radians(70.0)  # an adatom just outside the frozen region, pulled onto its surface and inwards
    adatom = Atoms('W', positions=[centre + 6.3 * np.array([np.sin(angle), 0.0, np.cos(angle)])])
    atoms = crystal[np.concatenate([frozen, np.flatnonzero((distance >= 6.0) & below)])] + adatom
    region = {'centre': centre.tolist(), 'radius': 6.0, 'periodic_axes': []}
    relax = {'type': 'minimize', 'ftol': 1e-4, 'maxiter': 3000}
    depth = [
        np.linalg.norm(
            run_lammps(atoms, eam, {'frozen': len(frozen), 'keep_out': wall, 'stages': [relax]})['atoms'].positions[-1] - centre
        )
        for wall in (None, {**region, 'radius': 6.0 - 0.3 * NN})
    ]
    assert depth[0] < 5.0 < depth[1]  # without the wall it slides into the central atom's 5 A environment
