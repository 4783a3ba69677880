"""ACE through pacemaker: the training DataFrame, input rendering, and the parser on genuine pacemaker output."""

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import run_get_node

from aiida_defectgenome.core.mlip.pace_files import pacemaker_input, prediction_errors, write_pacemaker_dataset
from aiida_defectgenome.core.structures.datasets import read_configurations
from aiida_defectgenome.parsers.pace import PaceTrainingParser
from aiida_defectgenome.tools.demo import BASIC_W_DATASET

FIXTURES = Path(__file__).parent / 'fixtures' / 'pacemaker'
PACEMAKER = os.environ.get('DG_PACEMAKER') or shutil.which('pacemaker')


@pytest.fixture(scope='module')
def small_w():
    return [c for c in read_configurations(BASIC_W_DATASET) if len(c[0]) <= 54][:60]


def test_dataset_is_readable_without_pandas_3_types(small_w, tmp_path):
    path = write_pacemaker_dataset(small_w[:5], tmp_path / 'train.pckl.gzip', ['a'] * 5)
    frame = pd.read_pickle(path, compression='gzip')
    assert list(frame.columns) == ['ase_atoms', 'energy', 'forces', 'dg_group']
    assert frame.columns.dtype == object and frame['dg_group'].dtype == object  # pandas < 3 reads these
    assert frame['ase_atoms'][0].calc is None and np.allclose(frame['forces'][0], small_w[0][1].forces)


def test_input_rendering_matches_the_genuine_run():
    rendered = pacemaker_input(['W'], {'functions_per_element': 20, 'maxiter': 30})
    assert rendered == yaml.safe_load((FIXTURES / 'input.yaml').read_text())  # what pacemaker ran on
    assert rendered['data']['reference_energy'] == 'auto'
    with pytest.raises(ValueError, match='unknown pacemaker settings: cutof'):
        pacemaker_input(['W'], {'cutof': 5})


def test_prediction_errors_equal_pacemakers_own_report():
    test = prediction_errors(FIXTURES / 'test_pred.pckl.gzip')
    train = prediction_errors(FIXTURES / 'train_pred.pckl.gzip')
    log = (FIXTURES / 'log.txt').read_text()
    assert '78.14' in log and '282.91' in log and '56.11' in log and '254.71' in log
    assert (round(test['energy_rmse_mev_per_atom'], 2), round(test['force_rmse_mev_per_a'], 2)) == (78.14, 282.91)
    assert (round(train['energy_rmse_mev_per_atom'], 2), round(train['force_rmse_mev_per_a'], 2)) == (56.11, 254.71)
    assert (test['configurations'], train['configurations']) == (6, 54)


def _finished_calculation(computer, folder: Path, elements=('W',)):
    node = orm.CalcJobNode(computer=computer, process_type='aiida.calculations:defectgenome.pace_training')
    node.set_option('resources', {'num_machines': 1, 'num_mpiprocs_per_machine': 1})
    node.base.links.add_incoming(orm.Dict({'elements': list(elements)}).store(), LinkType.INPUT_CALC, 'parameters')
    node.store()
    retrieved = orm.FolderData()
    retrieved.base.repository.put_object_from_tree(str(folder))
    retrieved.base.links.add_incoming(node, LinkType.CREATE, 'retrieved')
    retrieved.store()
    return node


def test_parser_on_genuine_output(aiida_profile, aiida_localhost, tmp_path):
    node = _finished_calculation(aiida_localhost, FIXTURES)
    results, calcfunction = PaceTrainingParser.parse_from_node(node, store_provenance=False)
    assert calcfunction.is_finished_ok
    potential = results['potential']
    assert potential.pair_style == 'pace' and potential.filenames == ['output_potential.yace', 'output_potential.asi']
    assert potential.pair_commands(['W'])[1] == 'pair_coeff * * output_potential.yace W'
    assert round(results['metrics']['test']['force_rmse_mev_per_a'], 2) == 282.91
    assert results['parity_plot'].get_content(mode='rb')[:4] == b'\x89PNG'

    (tmp_path / 'aiida.out').write_text('ValueError: Column `energy` or `energy_corrected` not found in dataset\n')
    failed = _finished_calculation(aiida_localhost, tmp_path)
    _, calcfunction = PaceTrainingParser.parse_from_node(failed, store_provenance=False)
    assert calcfunction.exit_status == 300 and 'energy_corrected` not found' in calcfunction.exit_message


def test_calculation_writes_dataframe_input_and_tools(aiida_profile, aiida_code_installed, small_w, tmp_path, monkeypatch):
    import ase.io

    from aiida_defectgenome.calculations.pace import PaceTrainingCalculation
    from aiida_defectgenome.core.structures.datasets import labelled_atoms

    ase.io.write(tmp_path / 'set.extxyz', [labelled_atoms(a, labels) for a, labels in small_w[:8]])
    code = aiida_code_installed(default_calc_job_plugin='defectgenome.pace_training', filepath_executable='/opt/ace/bin/pacemaker')
    builder = PaceTrainingCalculation.get_builder()
    builder.code = code
    builder.training_set = orm.SinglefileData(tmp_path / 'set.extxyz')
    builder.parameters = orm.Dict({'elements': ['W'], 'maxiter': 5})
    builder.metadata.dry_run = True
    monkeypatch.chdir(tmp_path)  # a dry run writes submit_test/ into the working directory
    builder.metadata.options.max_wallclock_seconds = 600
    _, node = run_get_node(builder)
    folder = Path(node.dry_run_info['folder'])
    frame = pd.read_pickle(folder / 'train.pckl.gzip', compression='gzip')
    assert len(frame) == 8 and frame['energy'][0] == pytest.approx(small_w[0][1].energy)
    assert yaml.safe_load((folder / 'input.yaml').read_text())['fit']['maxiter'] == 5
    script = (folder / '_aiidasubmit.sh').read_text()
    assert "'/opt/ace/bin/pace_yaml2yace' output_potential.yaml -o output_potential.yace" in script
    assert "'/opt/ace/bin/pace_activeset' -d fitting_data_info.pckl.gzip output_potential.yaml" in script


@pytest.mark.skipif(not PACEMAKER, reason='pacemaker is not installed (set DG_PACEMAKER to its path)')
def test_training_workchain_runs_pacemaker(aiida_profile, aiida_code_installed, small_w, tmp_path):
    import ase.io

    from aiida_defectgenome.core.structures.datasets import labelled_atoms
    from aiida_defectgenome.services.genome import import_genome
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    ase.io.write(tmp_path / 'w-small.extxyz', [labelled_atoms(a, labels) for a, labels in small_w])
    import_genome(tmp_path / 'w-small.extxyz', 'w-small')
    code = aiida_code_installed(default_calc_job_plugin='defectgenome.pace_training', filepath_executable=PACEMAKER)
    builder = TrainingWorkChain.get_builder_from_protocol(code, ['w-small'], protocol='fast', trainer='pace')
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    assert results['potential'].filenames == ['output_potential.yace', 'output_potential.asi']
    assert results['metrics']['train']['configurations'] == 54
    assert results['metrics']['test']['force_rmse_mev_per_a'] < 1000
