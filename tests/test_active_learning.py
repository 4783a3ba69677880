"""ActiveLearningWorkChain: train, watch gamma in MLIP MD, stop when nothing new appears; its input checks."""

import ase.io
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.common.structures import structure_from_atoms
from aiida_defectgenome.services.genome import import_genome
from aiida_defectgenome.tools.demo import BASIC_W_DATASET
from aiida_defectgenome.workflows.active_learning import ActiveLearningWorkChain
from aiida_defectgenome.workflows.dft_labeling import DftLabelingWorkChain
from aiida_defectgenome.workflows.training import TrainingWorkChain


@pytest.fixture
def al_builder(aiida_profile, tmp_path, python_code, lammps_code, gpaw_code, eam_w):
    """A builder on the first 150 configurations of the W basic set, watching a 54-atom bcc W cell."""
    path = tmp_path / 'al-basic.extxyz'
    ase.io.write(path, ase.io.read(BASIC_W_DATASET, index=':150'))
    import_genome(path, 'al-basic', engine='VASP')

    def factory(temperature, **md):
        builder = ActiveLearningWorkChain.get_builder()
        builder.groups = orm.List(['al-basic'])
        training = TrainingWorkChain.get_builder_from_protocol(python_code, ['al-basic'], protocol='fast')
        builder.training.parameters, builder.training.snap.code = training.parameters, python_code
        builder.structures = {'bulk': structure_from_atoms(bulk('W', 'bcc', a=3.165, cubic=True).repeat(3))}
        builder.md = orm.Dict({'temperature': temperature, 'steps': 100, 'every': 50, **md})
        builder.md_code = python_code
        builder.pcc_gcmc.code, builder.pcc_gcmc.potential = lammps_code, eam_w
        labeling = DftLabelingWorkChain.get_builder_from_protocol(gpaw_code, 'al-basic', protocol='fast')
        builder.dft_labeling.engine, builder.dft_labeling.gpaw.gpaw.code = labeling.engine, gpaw_code
        builder.dft_labeling.gpaw.gpaw.parameters = labeling.gpaw.gpaw.parameters
        return builder

    return factory


def test_calm_bulk_converges_in_the_first_round(al_builder):
    results, node = run_get_node(al_builder(300.0))
    assert node.is_finished_ok, node.exit_message
    summary = results['summary'].get_dict()
    assert summary['converged'] and summary['groups'] == ['al-basic'] and len(summary['rounds']) == 1
    bulk_run = summary['rounds'][0]['scenarios']['bulk']
    assert bulk_run['steps'] == 100 and bulk_run['snapshots'] == 0 and 0 < bulk_run['gamma_max'] < 2
    # gamma is graded in the model's own basis: the active set's descriptor is the model's quadratic SNAP
    descriptor = results['active_set'].descriptor
    assert descriptor['quadratic'] and descriptor['twojmax'] == 4
    assert results['potential'].creator.caller.caller.pk == node.pk  # the final model is this run's training
    assert not orm.QueryBuilder().append(orm.Group, filters={'label': {'like': 'otf-al-%'}}).count()


def test_a_loaded_scenario_is_watched_under_its_loading(al_builder):
    """A structure with a loading runs its LAMMPS stages (here a shear at a strain rate), the others NVT."""
    builder = al_builder(300.0)
    builder.structures['sheared'] = structure_from_atoms(bulk('W', 'bcc', a=3.165, cubic=True).repeat(3))
    shear = {'type': 'deform', 'mode': 'shear', 'axis': 'xy', 'strain_rate': 0.01, 'steps': 150, 'temperature': 300.0}
    builder.loadings = {'sheared': orm.Dict({'stages': [{'type': 'minimize'}, shear], 'frozen': 0, 'dump_every': 500})}
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    runs = {n.inputs.structure.pk: n for n in node.called_descendants if n.process_label == 'GammaMdCalculation'}
    stages = {pk: [stage['type'] for stage in run.inputs.parameters['stages']] for pk, run in runs.items()}
    assert stages == {builder.structures['bulk'].pk: ['md'], builder.structures['sheared'].pk: ['minimize', 'deform']}
    scenarios = results['summary']['rounds'][0]['scenarios']
    assert scenarios['sheared']['steps'] == 150 and scenarios['bulk']['steps'] == 100
    assert runs[builder.structures['sheared'].pk].inputs.parameters['every'] == 50  # the watch settings are shared


def test_bad_settings_are_refused_before_anything_runs(al_builder):
    builder = al_builder(300.0)
    with pytest.raises(ValueError, match='need 1 <= save_threshold <= break_threshold'):
        builder.md = orm.Dict({'temperature': 300.0, 'steps': 10, 'save_threshold': 5.0, 'break_threshold': 2.0})
        run_get_node(builder)
    builder.md = orm.Dict({'temperature': 300.0, 'steps': 10})
    builder.loadings = {'bulk': orm.Dict({'stages': [{'type': 'minimize'}]})}
    with pytest.raises(ValueError, match='watched MD of `bulk`: a watched run needs MD stages'):
        run_get_node(builder)
    builder.loadings = {'other': orm.Dict({'stages': [{'type': 'md'}]})}
    with pytest.raises(ValueError, match='loadings for no structure: other'):
        run_get_node(builder)
    del builder.loadings['other']
    with pytest.raises(ValueError, match='unknown selection parameter'):
        builder.selection = orm.Dict({'radius': 4.0, 'treshold': 2})
    builder.training.trainer = orm.Str('pace')
    builder.training.pace.code = builder.md_code  # any code: the trainer itself is what is refused
    builder.training.parameters = orm.Dict({})
    with pytest.raises(ValueError, match='use trainer `snap`'):
        run_get_node(builder)
