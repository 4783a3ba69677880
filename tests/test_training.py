"""TrainingWorkChain and the train/evaluate commands on the W basic set, with real LAMMPS."""

import json

import ase.io
import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType

from aiida_defectgenome.core.mlip.potential_evaluation import lammps_predictions, read_potential_directory
from aiida_defectgenome.core.mlip.snap_model import read_snap_files
from aiida_defectgenome.core.structures.datasets import read_configurations
from aiida_defectgenome.tools.demo import BASIC_W_DATASET


@pytest.fixture(scope='module')
def split_files(tmp_path_factory):
    """The W basic set cut into a training file (first 200 configurations) and a test file (next 40)."""
    folder = tmp_path_factory.mktemp('w-split')
    frames = ase.io.read(BASIC_W_DATASET, index=':')
    ase.io.write(folder / 'w-train.extxyz', frames[:200])
    ase.io.write(folder / 'w-test.extxyz', frames[200:240])
    return folder / 'w-train.extxyz', folder / 'w-test.extxyz'


def test_train_and_evaluate_commands(cli, python_code, split_files, tmp_path):
    train_file, test_file = split_files
    out = tmp_path / 'model'
    result = cli('train', train_file, '--protocol', 'fast', '--ensemble', '2', '--output', out, '--code', python_code.full_label)
    assert result.exit_code == 0, result.output
    assert 'Imported w-train.extxyz into genome group `w-train`' in result.output
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['training_configurations'] == 180 and metrics['test_configurations'] == 20
    assert metrics['test']['groups']['w-train']['configurations'] == 20
    assert [p['training_configurations'] for p in metrics['learning_curve']] == [45, 90, 180]
    for name in ('parity.png', 'learning_curve.png', 'potential.json', 'member_0/potential.json', 'member_1/potential.json'):
        assert (out / name).is_file(), name

    # a real LAMMPS run of the written potential reproduces the trainer's own predictions
    spec = read_potential_directory(out)
    model = read_snap_files(*spec.files)
    configurations = read_configurations(test_file)
    from_lammps = lammps_predictions(spec, [atoms for atoms, _ in configurations])
    for (atoms, _), (energy, forces) in zip(configurations, from_lammps):
        own_energy, own_forces, _ = model.predict(atoms)
        assert energy == pytest.approx(own_energy, abs=1e-6)
        assert np.abs(forces - own_forces).max() < 1e-6

    scores = tmp_path / 'scores.json'
    result = cli('evaluate', out, test_file, '--json', scores)
    assert result.exit_code == 0, result.output
    values = json.loads(scores.read_text())
    assert values['configurations'] == 40
    # the fast model on unseen configurations: well under the 870 meV/A of predicting zero forces
    assert 0 < values['energy_rmse_mev_per_atom'] < 30 and 0 < values['force_rmse_mev_per_a'] < 400

    # provenance: the potential descends from the training file, and that from every configuration
    potential = orm.load_node(metrics['potential_uuid'])
    calculation = potential.creator
    training_file = calculation.inputs.training_set
    joined = training_file.creator  # 200 configurations: training_set on chunks of 50, then joined in order
    assert joined.process_label == 'joined_training_set'
    chunks = [link.node.creator for link in joined.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all()]
    assert [chunk.process_label for chunk in chunks] == ['training_set'] * 4
    inputs = [link.node for chunk in chunks for link in chunk.base.links.get_incoming().all()]
    assert len({node.pk for node in inputs if isinstance(node, orm.StructureData)}) == 200
    assert any(isinstance(node, orm.ArrayData) for node in inputs)
    with training_file.as_path() as path:
        assert len(read_configurations(path)) == 200


def test_train_bad_input_is_one_clear_line(cli, split_files, tmp_path):
    result = cli('train', 'no-such-group', '--output', tmp_path / 'x')
    assert result.exit_code != 0 and 'no genome group `no-such-group`' in result.output
    result = cli('train', 'w-train', '--trainer', 'mtp', '--output', tmp_path / 'x')
    assert result.exit_code != 0 and '--trainer mtp needs --code (an MLIP-3 `mlp` code)' in result.output
    result = cli('train', split_files[0], '--weight', 'other=2', '--output', tmp_path / 'x')
    assert result.exit_code != 0 and 'not among the inputs' in result.output
    result = cli('evaluate', tmp_path, split_files[1])
    assert result.exit_code != 0 and 'holds no potential.json' in result.output


def test_workchain_reports_unlabelled_and_refuses_empty(python_code, split_files):
    from aiida.engine import run_get_node

    from aiida_defectgenome.common.structures import structure_from_atoms
    from aiida_defectgenome.data.genome import GenomeGroup
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    group = GenomeGroup(label='unlabelled-only').store()
    atoms = ase.io.read(split_files[1], index=0)
    group.add_nodes([structure_from_atoms(atoms).store()])
    builder = TrainingWorkChain.get_builder_from_protocol(python_code, ['unlabelled-only'], protocol='fast')
    _, node = run_get_node(builder)
    assert node.exit_status == TrainingWorkChain.exit_codes.ERROR_NO_LABELLED_DATA.status
    assert any('1 unlabelled left out' in log.message for log in orm.Log.collection.get_logs_for(node))


def test_a_model_with_a_second_radial_channel_is_trained_stored_and_run_by_lammps(cli, python_code, split_files):
    """A basis with an extra radial channel goes through the training job and its parser: the stored potential
    is `hybrid/overlay snap snap` with both channels' files, reads back as the model, and LAMMPS reproduces it."""
    from aiida.engine import run_get_node

    from aiida_defectgenome.data.potential_registry import potential_files, snap_model_of
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    train_file, test_file = split_files
    assert cli('genome', 'import', train_file, '--group', 'w-train-channels').exit_code == 0
    overrides = {'basis': {'extra': [{'twojmax': 4, 'cutoff': 3.8}]}, 'learning_curve': []}
    builder = TrainingWorkChain.get_builder_from_protocol(python_code, ['w-train-channels'], protocol='fast', overrides=overrides)
    _, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    potential = node.outputs.potential
    assert potential.pair_style == 'hybrid/overlay snap snap' and len(potential.filenames) == 4
    model = snap_model_of(potential)
    assert model.basis.extra[0].cutoff == 3.8 and model.basis.columns == 120 + 14
    atoms = [a for a, _ in read_configurations(test_file)[:5]]
    with potential_files(potential) as spec:
        from_lammps = lammps_predictions(spec, atoms)
    for configuration, (energy, forces) in zip(atoms, from_lammps):
        own_energy, own_forces, _ = model.predict(configuration)
        assert energy == pytest.approx(own_energy, abs=1e-6) and np.abs(forces - own_forces).max() < 1e-6


@pytest.mark.parametrize('protocol', ['fast', 'default'])
def test_every_snap_protocol_builds_a_valid_basis(python_code, protocol):
    """The protocols' settings pass the training job's own check; `default` has three extra radial channels."""
    from aiida_defectgenome.core.jobs.training_job import validate_settings
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    builder = TrainingWorkChain.get_builder_from_protocol(python_code, ['any'], protocol=protocol)
    basis, _ = validate_settings(builder.parameters.get_dict(), need_species=False)
    assert len(basis.channels) == {'fast': 1, 'default': 4}[protocol]
    assert basis.columns == {'fast': 120, 'default': 538}[protocol]


def test_the_training_job_builds_the_active_set_of_its_data_in_the_model_basis(cli, python_code, split_files):
    """With `active_set: true` the training CalcJob (not the daemon) builds the active set that active learning
    grades against: the same rows, inverse and sources as the calcfunction on the same training file."""
    from aiida.engine import run_get_node

    from aiida_defectgenome.core.jobs.gamma_md import model_descriptor
    from aiida_defectgenome.data.potential_registry import snap_model_of
    from aiida_defectgenome.services.d_optimality import active_set_for_file
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    assert cli('genome', 'import', split_files[1], '--group', 'w-active-set').exit_code == 0
    overrides = {'active_set': True, 'learning_curve': []}
    builder = TrainingWorkChain.get_builder_from_protocol(python_code, ['w-active-set'], protocol='fast', overrides=overrides)
    _, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    made = node.outputs.active_set
    assert made.creator.process_type == 'aiida.calculations:defectgenome.snap_training'
    with node.outputs.training_set.as_path() as path:
        descriptor = model_descriptor(snap_model_of(node.outputs.potential)).parameters
        reference = active_set_for_file(path, descriptor)
    assert made.descriptor == reference.descriptor and made.size == reference.size
    for name in ('rows', 'inverse', 'mean', 'scale', 'sources'):
        assert np.allclose(made.get_array(name), reference.get_array(name), rtol=1e-10, atol=1e-12), name
    assert made.base.attributes.get('source_atoms') == reference.base.attributes.get('source_atoms')
    assert node.outputs.metrics['active_set']['size'] == made.size


def test_an_active_set_for_a_multi_element_model_is_refused_before_the_job(python_code, split_files):
    from aiida_defectgenome.core.jobs.training_job import validate_settings

    with pytest.raises(ValueError, match='one-element models'):
        validate_settings({'species': ['W', 'Mo'], 'active_set': True})
    with pytest.raises(ValueError, match='active_set must be true or false'):
        validate_settings({'species': ['W'], 'active_set': 'yes'})
