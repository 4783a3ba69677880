"""``GammaMdParser`` on the files a real watched MD retrieved (``fixtures/gamma_md``): a SNAP model at 8000 K,
stopped when gamma passed the break threshold."""

import pytest

from .conftest import plain


def test_saved_snapshots_carry_their_step_and_grade(parse, data_regression):
    status, _, outputs = parse('gamma_md', 'hot_run_stopped', with_inputs=False)
    summary = outputs['summary'].get_dict()
    assert status == 0 and summary['stopped'] == 'break_threshold' and summary['gamma_max'][-1] > 5.0
    snapshots = outputs['snapshots']
    assert len(snapshots) == summary['saved'] == 4
    for key, structure in snapshots.items():
        grades = outputs['gamma'].get_array(key)
        assert structure.base.extras.get('dg_gamma_max') == pytest.approx(grades.max()) and grades.max() >= 1.5
        assert structure.base.extras.get('dg_step') in summary['check_steps']
    extras = {key: structure.base.extras.all for key, structure in snapshots.items()}
    data_regression.check({'outputs': plain(outputs), 'extras': extras})
