"""EipSamplingWorkChain on W (EAM-Zhou, fast protocol) through aiida.engine.run: clusters on defects, with provenance.
Through the daemon it runs inside the campaign of `test_campaign.py`."""

import os
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_defectgenome.calculations.lammps import LammpsCalculation
from aiida_defectgenome.core.lammps.inputs import TRAJECTORY_DUMP
from aiida_defectgenome.core.structures.analysis import adaptive_cna
from aiida_defectgenome.core.structures.datasets import read_structures
from aiida_defectgenome.data.active_set import ActiveSetData
from aiida_defectgenome.tools.provenance import provenance_chain
from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain

LOST = LammpsCalculation.exit_codes.ERROR_LOST_ATOMS.status

#: The scenarios of issue 4's check: a polycrystal anneal, tension, dislocation loops and indentation.
FOUR_SCENARIOS = ['polycrystal', 'tension', 'loop', 'indentation']


def _four_scenarios(lammps_code, python_code, eam_w, w_active_set, group):
    return EipSamplingWorkChain.get_builder_from_protocol(
        lammps_code, python_code, [eam_w], active_set=ActiveSetData(w_active_set), scenarios=FOUR_SCENARIOS, protocol='fast',
        output_group=group, selection={'threshold': 2.0, 'limit': 3, 'radius': 5.0},
    )  # fmt: skip


def _assert_clusters_on_defects(node, group, potential) -> list:
    """Check the clusters of the finished sampling ``node`` in ``group``: extras, ancestry and, read where
    the dump stayed, a centre atom that is not bcc in its snapshot; return them."""
    assert node.is_finished_ok, node.exit_message
    summary = node.outputs.summary.get_dict()
    assert {run['scenario'] for run in summary['runs'].values()} == set(FOUR_SCENARIOS)
    clusters = list(orm.load_group(group).nodes)
    assert len(clusters) == summary['clusters'] > 0
    for cluster in clusters:
        extras = cluster.base.extras.all
        assert {'dg_scenario', 'dg_variant', 'dg_potential', 'dg_snapshot', 'dg_step', 'dg_source_atom', 'dg_gamma'} <= set(extras)
        selection = cluster.creator
        assert selection.process_label == 'SelectionCalculation'
        lammps = selection.inputs.parent_folder.creator
        assert lammps.process_label == 'LammpsCalculation'
        assert lammps.inputs.potential.uuid == potential.uuid  # the potential that made it
        scenario = lammps.inputs.structure
        assert scenario.uuid in {s.uuid for s in node.inputs.structures.values()}  # the scenario structure
        # the central atom is on a defect in the snapshot it was cut from (read where the dump stayed)
        dump = Path(selection.inputs.parent_folder.get_remote_path()) / TRAJECTORY_DUMP
        frame = read_structures(dump, selection.inputs.parameters['species'])[extras['dg_snapshot']]
        assert adaptive_cna(frame)[extras['dg_source_atom']] != 'bcc', (extras['dg_scenario'], extras['dg_variant'])
        assert extras['dg_gamma'] >= 2.0 and np.isfinite(extras['dg_gamma'])
    return clusters


@pytest.mark.slow
def test_fast_sampling_returns_clusters_on_defects_traceable_to_scenario_and_potential(
    aiida_profile, lammps_code, python_code, eam_w, w_active_set
):
    _, node = run_get_node(_four_scenarios(lammps_code, python_code, eam_w, w_active_set, 'sampled-clusters'))
    clusters = _assert_clusters_on_defects(node, 'sampled-clusters', eam_w)
    # on localhost (no queue) no more runs at once than cores: the workstation is not swamped
    spans = [(run.ctime, run.mtime) for run in node.called if run.process_label == 'EipRunWorkChain']
    cores = os.cpu_count() or 1
    assert len(spans) == 6 and max(sum(s <= t < e for s, e in spans) for t, _ in spans) <= cores
    chain = {step['step']: step for step in provenance_chain(clusters[0])}
    assert (
        chain['potential']['uuid'] == eam_w.uuid
        and chain['loading']['uuid'] == clusters[0].creator.inputs.parent_folder.creator.uuid
    )
    assert f'snapshot {clusters[0].base.extras.get("dg_snapshot")}' in chain['snapshot']['text']
    assert f'atom {clusters[0].base.extras.get("dg_source_atom")} ' in chain['centre atom']['text']


@pytest.mark.slow
def test_sample_command_writes_clusters_with_core_centre_and_source(cli, lammps_code, python_code, tmp_path):
    import ase.io

    from aiida_defectgenome.tools.demo import BASIC_W_DATASET

    assert cli('genome', 'import', BASIC_W_DATASET, '--group', 'w-basic').exit_code == 0
    output = tmp_path / 'clusters.extxyz'
    result = cli(
        'sample', '--potential', 'eam-zhou-W', '--scenarios', 'polycrystal,dislocation', '--reference', 'w-basic',
        '--protocol', 'fast', '--group', 'cli-clusters', '--output', output, '--limit', '2', '--radius', '5',
        '--lammps-code', lammps_code.full_label, '--selection-code', python_code.full_label,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frames = ase.io.read(output, index=':')
    assert 0 < len(frames) <= 2 * 4  # four runs (one anneal, three dislocations), at most two clusters each
    for frame in frames:
        assert frame.arrays['core'].dtype == bool and frame.arrays['core'].all()
        assert {'centre', 'gamma', 'scenario', 'potential', 'snapshot', 'step', 'source_atom'} <= set(frame.info)
    bad = cli('sample', '--potential', 'eam-zhou-W', '--scenarios', 'polycrystal,cheese', '--reference', 'w-basic', '--group', 'x',
              '--lammps-code', lammps_code.full_label, '--selection-code', python_code.full_label)  # fmt: skip
    assert bad.exit_code != 0 and "cheese': give names among" in bad.output


#: A shorter anneal than the `fast` protocol's, where the test is about the machinery, not the sampling. Its
#: relaxed grain boundaries grade up to 1.9 (EAM) and 3.2 (MEAM) against the basic set: threshold 1.5.
SHORT_ANNEAL = {'polycrystal': {'steps': 400}, 'dump_every': 100}


@pytest.mark.slow
def test_two_eips_sample_the_same_scenario(aiida_profile, mpi_localhost, lammps_code, python_code, eam_w, w_active_set):
    """EAM and MEAM W anneal the same polycrystal, on two MPI ranks each; each cluster names, and descends from,
    its own potential."""
    from aiida_defectgenome.data.potential_registry import load_potential

    meam_w = load_potential('meam-W')
    builder = EipSamplingWorkChain.get_builder_from_protocol(
        lammps_code, python_code, [eam_w, meam_w], protocol='fast', overrides=SHORT_ANNEAL,
        active_set=ActiveSetData(w_active_set), scenarios=['polycrystal'], output_group='two-eip-clusters',
        selection={'threshold': 1.5, 'limit': 2, 'radius': 5.0},
    )  # fmt: skip
    builder.lammps_options = orm.Dict({'withmpi': True, 'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 2}})
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    runs = [n for n in node.called_descendants if n.process_label == 'LammpsCalculation']
    assert len(runs) == 2
    for run in runs:
        assert 'with 2 MPI tasks' in run.outputs.retrieved.base.repository.get_object_content('log.lammps')
    clusters = list(orm.load_group('two-eip-clusters').nodes)
    by_potential = {}
    for cluster in clusters:
        lammps = cluster.creator.inputs.parent_folder.creator
        assert lammps.inputs.potential.label == cluster.base.extras.get('dg_potential')
        by_potential.setdefault(lammps.inputs.potential.uuid, []).append(cluster)
    assert set(by_potential) == {eam_w.uuid, meam_w.uuid}


def test_a_run_that_loses_atoms_is_restarted_and_selected_from_its_last_folder(
    aiida_profile, lammps_code, python_code, eam_w, w_active_set, exploding_w
):
    """``EipRunWorkChain`` restarts as ``LammpsBaseWorkChain`` does, then selects from the run that ended well."""
    from aiida_defectgenome.workflows.eip_run import EipRunWorkChain

    stages = [{'type': 'md', 'ensemble': 'nve', 'steps': 200, 'timestep': 0.01}]
    builder = EipRunWorkChain.get_builder()
    builder.lammps = {
        'code': lammps_code,
        'structure': exploding_w,
        'potential': eam_w,
        'parameters': orm.Dict({'stages': stages, 'dump_every': 50}),
    }
    builder.active_set, builder.selection_code = ActiveSetData(w_active_set), python_code
    builder.selection = orm.Dict(
        {'species': ['W'], 'threshold': 2.0, 'limit': 2, 'radius': 5.0, 'provenance': {'scenario': 'test'}}
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    lammps = sorted((n for n in node.called if n.process_label == 'LammpsCalculation'), key=lambda n: n.ctime)
    assert [n.exit_status for n in lammps] == [LOST, LOST, 0]
    selection = next(n for n in node.called if n.process_label == 'SelectionCalculation')
    assert selection.inputs.parent_folder.uuid == lammps[-1].outputs.remote_folder.uuid
    assert results['summary']['snapshots'] == 5 and results['structure'].uuid == lammps[-1].outputs.structure.uuid
