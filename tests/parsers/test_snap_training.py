"""``SnapTrainingParser`` on the files a real training job retrieved (``fixtures/snap_training``): the fast
basis on 30 small W configurations, with two bootstrap members and a learning curve."""

from aiida_defectgenome.core.mlip.snap_model import read_snap_model

from ..conftest import PARSER_FIXTURES
from .conftest import plain


def test_model_members_metrics_and_plots(parse, data_regression):
    status, _, outputs = parse('snap_training', 'fast_ensemble', with_inputs=False)
    assert status == 0
    assert set(outputs) == {'potential', 'ensemble', 'metrics', 'parity_plot', 'learning_curve_plot'}
    assert sorted(outputs['ensemble']) == ['member_0', 'member_1']
    model = outputs['potential']
    assert model.pair_style == 'snap' and model.species == ['W'] and model.name.startswith('snap-')
    assert [outputs['ensemble'][f'member_{k}'].name for k in range(2)] == [f'{model.name}-{k}' for k in range(2)]
    retrieved = read_snap_model(PARSER_FIXTURES / 'snap_training' / 'fast_ensemble', 'model')
    assert len(retrieved.coefficients) == outputs['metrics']['coefficients'] == 120
    assert model.filenames == [f'{model.name}.snapcoeff', f'{model.name}.snapparam']  # named as LAMMPS will read them
    data_regression.check(plain(outputs))


def test_a_training_that_wrote_no_metrics_names_the_last_lines_it_printed(generate_calc_job_node, tmp_path):
    from aiida.plugins import ParserFactory

    (tmp_path / 'aiida.out').write_text('ValueError: no labelled configurations in training.extxyz\n')
    node = generate_calc_job_node('defectgenome.snap_training', tmp_path)
    _, parsing = ParserFactory('defectgenome.snap_training').parse_from_node(node, store_provenance=False)
    assert parsing.exit_status == 300 and 'no labelled configurations' in parsing.exit_message
