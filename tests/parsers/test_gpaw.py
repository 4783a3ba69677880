"""``GpawParser`` on the files real GPAW runs retrieved (``fixtures/gpaw``)."""

import numpy as np

from aiida_defectgenome.calculations.gpaw import GpawCalculation
from aiida_defectgenome.data.labels import labels_rows

from .conftest import plain


def test_a_converged_single_point_becomes_one_row_of_labels(parse, data_regression):
    status, _, outputs = parse('gpaw', 'single_point')
    assert status == 0 and set(outputs) == {'output_parameters', 'labels'}
    table = outputs['labels']
    assert table.base.attributes.get('engine') == 'GPAW'
    assert table.base.attributes.get('settings')['setups'] == {'W': '6'}  # what ran, defaults filled in
    (labels,) = labels_rows(table)
    assert labels.forces.shape == (2, 3) and np.allclose(labels.forces, 0.0, atol=1e-3)  # bcc: no force by symmetry
    assert labels.energy == outputs['output_parameters']['energy']
    data_regression.check({'outputs': plain(outputs), 'settings': table.base.attributes.get('settings')})


def test_an_unconverged_scf_is_its_recoverable_exit_code_with_the_run_information(parse, data_regression):
    status, message, outputs = parse('gpaw', 'scf_not_converged')
    assert status == GpawCalculation.exit_codes.ERROR_SCF_NOT_CONVERGED.status == 410
    assert message == 'SCF not converged in 2 iterations'
    assert set(outputs) == {'output_parameters'} and not outputs['output_parameters']['converged']
    data_regression.check(plain(outputs))
