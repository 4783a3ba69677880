"""PccGcmcWorkChain, its group map and the `pcc-gcmc` command on a real profile with real LAMMPS."""

import json

import ase.io
import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.calculations.functions.pcc_gcmc import assess_pcc_boxes
from aiida_defectgenome.calculations.lammps import LammpsCalculation
from aiida_defectgenome.common.structures import structure_from_atoms
from aiida_defectgenome.core.doptimality.clusters import cut_neighbourhood
from aiida_defectgenome.data.active_set import ActiveSetData
from aiida_defectgenome.tools.provenance import provenance_chain
from aiida_defectgenome.workflows.pcc_gcmc import PccGcmcGroupWorkChain, PccGcmcWorkChain

A0, E_COH = 3.16485, -8.75999
QUICK = {'boxes': 2, 'gcmc_steps': 100}


def sphere(radius=8.0, angle=0.0):
    source = bulk('W', 'bcc', a=A0, cubic=True) * 8
    source.rotate(angle, (1, 2, 3), rotate_cell=True)
    return cut_neighbourhood(source, 100, radius=radius)


def test_workchain_gives_a_perfect_cell_with_provenance_to_every_box(lammps_code, eam_w, w_active_set):
    cluster = structure_from_atoms(sphere())
    active_set = ActiveSetData(w_active_set)
    builder = PccGcmcWorkChain.get_builder_from_protocol(
        lammps_code, eam_w, cluster, protocol='fast', overrides=QUICK, options={'max_wallclock_seconds': 1200},
        cohesive_energy=orm.Float(E_COH), active_set=active_set,
    )  # fmt: skip
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    cell = results['structure']
    assert cell.base.extras.get('dg_energy_per_atom') == pytest.approx(E_COH, abs=0.01)
    assert cell.base.extras.get('dg_inserted_bcc') == 1.0 and cell.base.extras.get('dg_cluster') == cluster.uuid
    assert cell.base.extras.get('dg_core_radius') == 6.5 and cell.base.extras.get('dg_environment_change') < 1e-6
    figures = results['figures'].get_dict()
    assert figures['frozen']['n_core'] == results['core'].get_array('core').sum() < len(cluster.sites)
    assert cell.base.extras.get('dg_gamma') == pytest.approx(figures['frozen']['gamma'], rel=1e-6)  # the grade unchanged
    source = results['core'].get_array('source_index')
    assert source[0] == 0 and set(source[source >= 0]) | set(figures['candidates'][figures['chosen']]['trimmed']) == set(
        range(len(cluster.sites))
    )
    creator = cell.creator
    assert creator.process_label == assess_pcc_boxes.__name__
    assert active_set.uuid in {link.node.uuid for link in creator.base.links.get_incoming().all()}
    box_runs = [child for child in node.called if child.process_type == LammpsCalculation.build_process_type()]
    assert len(box_runs) == 2 == len(results['energy_map'].get_array('natoms'))
    assert {run.get_option('max_wallclock_seconds') for run in box_runs} == {1200}  # the builder's options reach them
    used = {link.node.uuid for link in creator.base.links.get_incoming().all()}
    assert {run.outputs.structure.uuid for run in box_runs} <= used  # every box run feeds the choice
    assert results['energy_map_plot'].get_content(mode='rb')[:4] == b'\x89PNG'
    seeded_from = {link.node.uuid for link in box_runs[0].inputs.structure.creator.base.links.get_incoming().all()}
    assert cluster.uuid in seeded_from and eam_w.uuid in {run.inputs.potential.uuid for run in box_runs}
    chain = {step['step']: step for step in provenance_chain(cell)}
    assert chain['box']['uuid'] in {run.uuid for run in box_runs} and f'{len(cell.sites)} atoms' in chain['box']['text']
    assert chain['DFT run']['text'] == 'not labelled' and chain['models']['text'] == 'none yet'


def test_impossible_box_and_foreign_species_fail_early_with_a_message(lammps_code, eam_w):
    big = structure_from_atoms(sphere())
    _, node = run_get_node(
        PccGcmcWorkChain.get_builder_from_protocol(lammps_code, eam_w, big, overrides={**QUICK, 'max_atoms': 60})
    )
    assert node.exit_status == PccGcmcWorkChain.exit_codes.ERROR_IMPOSSIBLE_BOX.status
    assert 'raise max_atoms to' in node.exit_message and 'fits about 60 atoms' in node.exit_message
    # the boxes are planned once, by the seeding calcfunction, which refuses it: no LAMMPS job ran for it
    assert [(c.process_label, c.exit_status) for c in node.called] == [('seed_pcc_boxes', 300)]
    copper = structure_from_atoms(cut_neighbourhood(bulk('Cu', 'fcc', a=3.61, cubic=True) * 6, 50, radius=5.0))
    _, node = run_get_node(PccGcmcWorkChain.get_builder_from_protocol(lammps_code, eam_w, copper, overrides=QUICK))
    assert node.exit_status == PccGcmcWorkChain.exit_codes.ERROR_INVALID_CLUSTER.status and 'Cu' in node.exit_message


def test_the_cohesive_energy_comes_from_a_lammps_job_not_from_the_daemon(lammps_code, eam_w):
    """Without `cohesive_energy` the work chain relaxes the reference crystal in a LammpsCalculation (which a
    cluster's queue can take) and reads its energy per atom: the same as the local LAMMPS gives."""
    from aiida_defectgenome.core.pcc_gcmc.gcmc import cohesive_energy
    from aiida_defectgenome.data.potential_registry import potential_files

    cluster = structure_from_atoms(sphere(radius=6.5))
    builder = PccGcmcWorkChain.get_builder_from_protocol(lammps_code, eam_w, cluster, overrides={'boxes': 1, 'gcmc_steps': 50})
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    called = {c.base.links.get_incoming(link_type=LinkType.CALL_CALC).one().link_label: c for c in node.called}
    job = called['cohesive_energy']
    assert job.process_type == LammpsCalculation.build_process_type() and job.is_finished_ok
    used = results['structure'].creator.inputs.cohesive_energy
    assert used.creator.inputs.output_parameters.creator.uuid == job.uuid
    with potential_files(eam_w) as spec:
        assert used.value == pytest.approx(cohesive_energy(spec, 'W'), abs=1e-9)
    assert used.value == pytest.approx(E_COH, abs=1e-4)


@pytest.mark.slow  # half a minute: in the default run, the other tests cover it in part
def test_command_line_contract(cli, lammps_code, tmp_path):
    cluster = sphere(angle=20.0)
    cluster = cluster[::-1]  # the central atom last: the file says which one it is
    cluster.info['centre'] = len(cluster) - 1
    del cluster.info['centre_index']
    cluster.arrays['core'] = np.ones(len(cluster), dtype=bool)
    cluster.arrays['energies'] = np.full(len(cluster), E_COH)
    del cluster.arrays['core_mask']
    source = tmp_path / 'cluster.extxyz'
    ase.io.write(source, cluster, format='extxyz')
    out, report = tmp_path / 'cell.extxyz', tmp_path / 'cell.json'
    args = ('pcc-gcmc', source, '--potential', 'eam-zhou-W', '--protocol', 'fast', '--output', out, '--json', report)
    result = cli(*args, '--core-radius', '6.0')
    assert result.exit_code == 0, result.output
    cell = ase.io.read(out)
    frozen = np.linalg.norm(cluster.positions - cluster.positions[-1], axis=1) <= 6.0
    assert cell.pbc.all() and cell.arrays['core'].sum() == frozen.sum() and cell.info['centre'] == 0
    assert cell.arrays['source_index'][0] == len(cluster) - 1
    assert cell.get_potential_energy() / len(cell) == pytest.approx(E_COH, abs=0.01)
    data = json.loads(report.read_text())
    assert {'candidates', 'chosen', 'figures_of_merit', 'frozen', 'trimmed', 'wall_time_s'} <= set(data)
    assert {'lengths', 'natoms', 'energy_per_atom', 'valid', 'problems', 'environment_change'} <= set(data['candidates'][0])
    assert data['frozen']['core_radius'] == 6.0 and abs(data['figures_of_merit']['ideal_gap']) < 0.01
    kept = set(cell.arrays['source_index'][cell.arrays['source_index'] >= 0])
    assert sorted(kept | set(data['trimmed'])) == list(range(len(cluster))) and not kept & set(data['trimmed'])
    result = cli(*args, '--core-radius', '4.0')
    assert result.exit_code == 1 and 'at least the descriptor cutoff (5 A)' in result.output
    cluster.info['centre'] = len(cluster) + 5
    ase.io.write(source, cluster, format='extxyz')
    result = cli(*args)
    assert result.exit_code == 1 and 'is not an atom index' in result.output
    cluster.arrays['core'][:] = False
    cluster.info['centre'] = 0
    ase.io.write(source, cluster, format='extxyz')
    result = cli('pcc-gcmc', source, '--potential', 'eam-zhou-W', '--output', out)
    assert result.exit_code == 1 and 'marks no atom' in result.output
    result = cli('pcc-gcmc', '--potential', 'eam-zhou-W', '--output', out)
    assert result.exit_code == 2 and 'either CLUSTER_FILE or --group' in result.output


@pytest.mark.slow
def test_group_of_clusters_becomes_a_group_of_cells(lammps_code, eam_w):
    group = orm.Group(label='pcc-test-clusters').store()
    clusters = [structure_from_atoms(sphere(angle=a)).store() for a in (0.0, 15.0)]
    copper = cut_neighbourhood(bulk('Cu', 'fcc', a=3.61, cubic=True) * 6, 50, radius=5.0)
    clusters.append(structure_from_atoms(copper).store())  # not described by the potential: reported, skipped
    for cluster in clusters:
        cluster.base.extras.set_many({'dg_cut_radius': 8.0, 'dg_centre': 0})
    group.add_nodes(clusters)
    builder = PccGcmcGroupWorkChain.get_builder()
    builder.clusters, builder.output_group = orm.Str(group.label), orm.Str('pcc-test-cells')
    builder.code, builder.potential, builder.max_concurrent = lammps_code, eam_w, orm.Int(2)
    builder.parameters = orm.Dict(QUICK)
    results, node = run_get_node(builder)
    assert node.is_finished_ok
    # the cohesive energy: one LAMMPS job for the whole group, its value given to every cluster
    reference = [c for c in node.called if c.process_type == LammpsCalculation.build_process_type()]
    assert [c.base.links.get_incoming(link_type=LinkType.CALL_CALC).one().link_label for c in reference] == ['cohesive_energy']
    given = {c.inputs.cohesive_energy.uuid for c in node.called if c.process_label == 'PccGcmcWorkChain'}
    assert len(given) == 1 and orm.load_node(given.pop()).creator.inputs.output_parameters.creator.uuid == reference[0].uuid
    cells = orm.load_group('pcc-test-cells').nodes
    assert len(cells) == 2
    summary = results['summary'].get_dict()
    assert 'failed' in summary[str(clusters[2].pk)] and clusters[0].base.extras.get('dg_periodic_cell') in {c.uuid for c in cells}


@pytest.mark.slow  # a minute and a half: eight MEAM box runs
def test_a_hot_meam_polycrystal_cluster_gets_its_cell_from_the_second_round(lammps_code):
    """A cluster the project's own `sample` cut from a 1200 K MEAM-W polycrystal (snapshot 9 of the fast
    protocol's anneal): with the box relaxed its mobile atoms jam and leave vacancy-sized holes in every
    box, so the second round (the box kept, the mobile atoms annealed) must give the cell."""
    from pathlib import Path

    from aiida_defectgenome.data.potential_registry import load_potential

    atoms = ase.io.read(Path(__file__).parent / 'fixtures' / 'clusters' / 'meam-W-polycrystal-1200K.extxyz')
    mask, energies = orm.ArrayData(), orm.ArrayData()
    mask.set_array('core', atoms.arrays['core'])
    energies.set_array('energies', atoms.arrays['source_energies'])
    builder = PccGcmcWorkChain.get_builder_from_protocol(
        lammps_code,
        load_potential('meam-W'),
        structure_from_atoms(atoms),
        protocol='fast',
        overrides={'boxes': 2},
        core_mask=mask,
        source_energies=energies,
        cluster_info=orm.Dict({'centre_index': 0, 'cut_radius': 8.0}),
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    first, second = results['first_round_figures'].get_dict(), results['figures'].get_dict()
    assert first['chosen'] is None and all('vacuum pocket' in c['problems'][0] for c in first['candidates'])
    best = second['candidates'][second['chosen']]
    assert best['valid'] and best['natoms'] <= 150 and best['environment_change'] < 1e-6 and best['ideal_gap'] < 0.25
    calls = {link.link_label: link.node for link in node.base.links.get_outgoing(link_type=LinkType.CALL_CALC).all()}
    assert sorted(label for label in calls if 'box' in label) == ['box_0', 'box_1', 'fallback_box_0', 'fallback_box_1']
    for label, run in calls.items():
        if 'box' in label:  # the first round relaxes the box; the second keeps it and anneals (W: 2,500 K)
            stages = run.inputs.parameters['stages']
            assert any(stage.get('box_relax') for stage in stages) == label.startswith('box')
            assert [s['temperature'] for s in stages if s['type'] == 'md'] == (
                [] if label.startswith('box') else [pytest.approx(2512, abs=40)]
            )
    reports = ' '.join(log.message for log in orm.Log.collection.get_logs_for(node))
    assert 'no box of the first round is valid: a second round with relax_box False, anneal 0.025' in reports
    assert ('warning: the cell holds' in reports) == (best['max_abs_stress'] > 10.0)  # kept boxes end compressed
