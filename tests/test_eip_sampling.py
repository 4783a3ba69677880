"""EipSamplingWorkChain on W (EAM-Zhou, fast protocol) through aiida.engine.run: clusters on defects, with provenance."""

from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_defectgenome.core.datasets import read_structures
from aiida_defectgenome.core.lammps_input import TRAJECTORY_DUMP
from aiida_defectgenome.core.structure_analysis import adaptive_cna
from aiida_defectgenome.data.active_set import ActiveSetData
from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain


@pytest.mark.slow
def test_fast_sampling_returns_clusters_on_defects_traceable_to_scenario_and_potential(
    aiida_profile, lammps_code, python_code, eam_w, w_active_set
):
    builder = EipSamplingWorkChain.get_builder_from_protocol(
        lammps_code,
        python_code,
        [eam_w],
        ActiveSetData(w_active_set),
        scenarios=['polycrystal', 'tension', 'loop', 'indentation'],
        protocol='fast',
        output_group='sampled-clusters',
        selection={'threshold': 2.0, 'limit': 3, 'radius': 5.0},
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    summary = results['summary'].get_dict()
    assert {run['scenario'] for run in summary['runs'].values()} == {'polycrystal', 'tension', 'loop', 'indentation'}
    clusters = list(orm.load_group('sampled-clusters').nodes)
    assert len(clusters) == summary['clusters'] > 0

    for cluster in clusters:
        extras = cluster.base.extras.all
        assert {'dg_scenario', 'dg_variant', 'dg_potential', 'dg_snapshot', 'dg_step', 'dg_source_atom', 'dg_gamma'} <= set(extras)
        selection = cluster.creator
        assert selection.process_label == 'SelectionCalculation'
        lammps = selection.inputs.parent_folder.creator
        assert lammps.process_label == 'LammpsCalculation'
        assert lammps.inputs.potential.uuid == eam_w.uuid  # the potential that made it
        scenario = lammps.inputs.structure
        assert scenario.uuid in {s.uuid for s in node.inputs.structures.values()}  # the scenario structure
        # the central atom is on a defect in the snapshot it was cut from (read where the dump stayed)
        dump = Path(selection.inputs.parent_folder.get_remote_path()) / TRAJECTORY_DUMP
        frame = read_structures(dump, selection.inputs.parameters['species'])[extras['dg_snapshot']]
        assert adaptive_cna(frame)[extras['dg_source_atom']] != 'bcc', (extras['dg_scenario'], extras['dg_variant'])
        assert extras['dg_gamma'] >= 2.0 and np.isfinite(extras['dg_gamma'])
