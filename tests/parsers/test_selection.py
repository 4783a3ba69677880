"""``SelectionParser`` on the files a real selection job retrieved (``fixtures/selection``): two clusters cut
from the dump of a polycrystal at 600 K graded against the W basic set."""

from .conftest import plain


def test_clusters_come_back_with_where_they_were_cut(parse, data_regression):
    status, _, outputs = parse('selection', 'polycrystal', with_inputs=False)
    assert status == 0 and set(outputs) == {'clusters', 'cluster_info', 'summary'}
    info = outputs['cluster_info'].get_dict()
    assert sorted(info) == sorted(outputs['clusters']) == ['cluster_0000', 'cluster_0001']
    assert outputs['summary']['clusters'] == 2
    for key in outputs['clusters']:
        assert info[key]['scenario'] == 'polycrystal' and info[key]['gamma'] >= 1.5  # the case's provenance, threshold
        assert {'step', 'snapshot', 'source_atom', 'centre'} <= set(info[key])
    data_regression.check(plain(outputs))


def test_a_selection_that_wrote_no_summary_says_what_it_printed(generate_calc_job_node, tmp_path):
    from aiida.plugins import ParserFactory

    (tmp_path / 'aiida.out').write_text('Traceback (most recent call last):\nMemoryError\n')
    node = generate_calc_job_node('defectgenome.selection', tmp_path)  # a job that died before its summary
    _, parsing = ParserFactory('defectgenome.selection').parse_from_node(node, store_provenance=False)
    assert parsing.exit_status == 300 and parsing.exit_message.endswith('(Traceback (most recent call last):\nMemoryError).')
