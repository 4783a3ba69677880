"""GammaMdCalculation: MLIP MD watching gamma through AiiDA, with a SNAP model trained here."""

import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.calculations.gamma_md import GammaMdCalculation
from aiida_defectgenome.common.structures import structure_from_atoms
from aiida_defectgenome.core.doptimality.screening import active_set_of
from aiida_defectgenome.core.jobs.gamma_md import model_descriptor
from aiida_defectgenome.core.mlip.snap_basis import SnapBasis
from aiida_defectgenome.core.mlip.snap_fit import FitWeights
from aiida_defectgenome.core.mlip.snap_training import TrainingData, train_snap
from aiida_defectgenome.core.structures.datasets import read_configurations
from aiida_defectgenome.data.active_set import ActiveSetData
from aiida_defectgenome.data.potential import InteratomicPotentialData
from aiida_defectgenome.tools.demo import BASIC_W_DATASET


@pytest.fixture(scope='module')
def fast_model(tmp_path_factory):
    """The `fast` SNAP model of the W basic set, its files, and the active set in its own basis."""
    configurations = read_configurations(BASIC_W_DATASET)
    data = TrainingData.build(SnapBasis(('W',), twojmax=4, quadratic=True), configurations)
    model = train_snap(data, FitWeights(1.0, 0.01, ridge=1e-10), test_fraction=0.0).model
    spec = model.potential_spec(tmp_path_factory.mktemp('model'), 'w-fast-snap')
    return spec, active_set_of([atoms for atoms, _ in configurations], model_descriptor(model))


def _watch(python_code, fast_model, temperature, **extra):
    spec, active_set = fast_model
    builder = GammaMdCalculation.get_builder()
    builder.code = python_code
    builder.structure = structure_from_atoms(bulk('W', 'bcc', a=3.18, cubic=True).repeat(3))
    builder.potential = InteratomicPotentialData(spec)
    builder.active_set = ActiveSetData(active_set)
    builder.parameters = orm.Dict({'temperature': temperature, 'steps': 300, 'every': 20, 'save_threshold': 1.5,
                                   'break_threshold': 5.0, **extra})  # fmt: skip
    return run_get_node(builder)


def test_hot_run_is_stopped_and_its_extrapolative_snapshots_come_back(aiida_profile, python_code, fast_model):
    results, node = _watch(python_code, fast_model, 8000.0)
    assert node.is_finished_ok, node.exit_message
    summary = results['summary'].get_dict()
    assert summary['stopped'] == 'break_threshold' and summary['steps'] < 300 and summary['gamma_max'][-1] > 5
    snapshots = results['snapshots']
    assert len(snapshots) == summary['saved'] > 0
    last = snapshots[sorted(snapshots)[-1]]
    assert last.base.extras.get('dg_gamma_max') == pytest.approx(summary['gamma_max'][-1])
    assert results['gamma'].get_array(sorted(snapshots)[-1]).max() == pytest.approx(summary['gamma_max'][-1])
    assert last.creator.inputs.potential.label == 'w-fast-snap'  # provenance: the model that ran


def test_calm_run_saves_nothing(aiida_profile, python_code, fast_model):
    results, node = _watch(python_code, fast_model, 300.0)
    assert node.is_finished_ok, node.exit_message
    summary = results['summary'].get_dict()
    assert summary['steps'] == 300 and summary['stopped'] == '' and summary['saved'] == 0 and max(summary['gamma_max']) < 1
    assert 'snapshots' not in results or not results['snapshots']


def test_bad_watch_settings_are_refused_before_the_job(aiida_profile, python_code, fast_model):
    with pytest.raises(ValueError, match='unknown watch settings: temprature'):
        _watch(python_code, fast_model, 300.0, temprature=300)
