"""SelectionCalculation through AiiDA: the dump stays in the LAMMPS run folder, only clusters come back."""

import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_defectgenome.calculations.lammps import LammpsCalculation
from aiida_defectgenome.calculations.selection import SelectionCalculation
from aiida_defectgenome.common.structures import structure_from_atoms
from aiida_defectgenome.core.lammps.inputs import TRAJECTORY_DUMP
from aiida_defectgenome.core.structures.scenarios import polycrystal
from aiida_defectgenome.data.active_set import ActiveSetData

from .defect_cells import A0


def test_selection_runs_next_to_the_dump_and_retrieves_only_clusters(aiida_profile, lammps_code, eam_w, python_code, w_active_set):
    grains = structure_from_atoms(polycrystal('W', A0, 'bcc', length=24.0, grains=3, seed=11))
    stages = [{'type': 'minimize', 'etol': 1e-4, 'ftol': 0.0}, {'type': 'md', 'temperature': 600.0, 'steps': 100, 'seed': 3}]
    lammps = {
        'code': lammps_code,
        'potential': eam_w,
        'structure': grains,
        'parameters': orm.Dict({'stages': stages, 'dump_every': 50}),
    }
    _, run = run_get_node(LammpsCalculation, **lammps)
    assert run.is_finished_ok, run.exit_message
    assert TRAJECTORY_DUMP not in run.outputs.retrieved.base.repository.list_object_names()  # the dump stayed

    parameters = {'species': ['W'], 'threshold': 2.0, 'limit': 4, 'radius': 5.0, 'provenance': {'scenario': 'polycrystal'}}
    inputs = {
        'code': python_code,
        'parent_folder': run.outputs.remote_folder,
        'active_set': ActiveSetData(w_active_set),
        'parameters': orm.Dict(parameters),
    }
    results, node = run_get_node(SelectionCalculation, **inputs)
    assert node.is_finished_ok, node.exit_message
    retrieved = set(node.outputs.retrieved.base.repository.list_object_names())
    assert {'clusters.extxyz', 'summary.json'} <= retrieved and not any(name.endswith('.dump') for name in retrieved)
    summary = results['summary'].get_dict()
    assert summary['snapshots'] >= 3 and 0 < summary['clusters'] <= 4
    info = results['cluster_info'].get_dict()
    assert sorted(info) == sorted(results['clusters'])
    first = info[sorted(info)[0]]
    assert first['scenario'] == 'polycrystal' and first['gamma'] >= 2.0 and 'step' in first and 'source_atom' in first


def test_bad_selection_parameters_are_refused_before_anything_runs(aiida_profile, python_code, w_active_set):
    remote = orm.RemoteData(computer=python_code.computer, remote_path='/tmp')
    with pytest.raises(ValueError, match='species'):
        run_get_node(
            SelectionCalculation,
            code=python_code,
            parent_folder=remote,
            active_set=ActiveSetData(w_active_set),
            parameters=orm.Dict({}),
        )
