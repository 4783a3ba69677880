"""``LammpsParser`` on the files real LAMMPS runs retrieved (``fixtures/lammps``); outputs kept by data regression."""

import numpy as np
import pytest

from aiida_defectgenome.calculations.lammps import LammpsCalculation

from ..job_cases import LAMMPS, rotated_cell
from .conftest import plain

CODES = LammpsCalculation.exit_codes
ALL = {'output_parameters', 'structure', 'per_atom', 'thermo'}
EXPECTED = {  # case: exit code, words of its message, outputs
    'relax_md': (0, '', ALL),
    'rotated_cell': (0, '', ALL),
    'atoms_stay_remote': (0, '', {'output_parameters', 'thermo'}),
    'unconverged_minimisation': (CODES.ERROR_MINIMIZATION_NOT_CONVERGED.status, 'max iterations', ALL),
    'lost_atoms': (CODES.ERROR_LOST_ATOMS.status, 'Lost atoms: original 54 current 50', set()),
    'missing_potential_file': (CODES.ERROR_POTENTIAL_FILE.status, 'W_missing.eam.alloy: No such file', set()),
}  # fmt: skip


@pytest.mark.parametrize('case', sorted(LAMMPS))
def test_lammps_parser(parse, data_regression, case):
    status, message, outputs = parse('lammps', case)
    expected_status, words, names = EXPECTED[case]
    assert (status, set(outputs)) == (expected_status, names)
    assert words in (message or '')
    data_regression.check({'exit_status': status, 'exit_message': message, 'outputs': plain(outputs)})


def test_stress_and_forces_come_back_in_the_frame_of_the_input(parse):
    """LAMMPS runs the rotated cell in its own (upper-triangular) frame; the parser rotates every vector back:
    the final cell is the input cell, and the stress is that of the same cell unrotated, turned."""
    _, _, outputs = parse('lammps', 'rotated_cell')
    cell = rotated_cell().get_ase().cell.array
    assert np.allclose(outputs['structure'].get_ase().cell.array, cell, atol=1e-10)
    stress = np.array(outputs['output_parameters']['stress'])
    assert np.allclose(stress, stress.T, atol=1e-12) and np.abs(stress).max() > 0.1  # GPa, a strained cell
    forces = outputs['per_atom'].get_array('forces')
    assert np.allclose(forces.sum(axis=0), 0.0, atol=1e-8) and np.abs(forces).max() > 0.1
    # the stress is invariant in the frame that follows the cell: its trace and norm are frame-free checks
    assert np.trace(stress) == pytest.approx(3 * -outputs['output_parameters']['pressure'], rel=1e-6)


def test_thermo_rows_name_their_stage(parse):
    _, _, outputs = parse('lammps', 'relax_md')
    stage = outputs['thermo'].get_array('stage')
    assert set(stage) == {0, 1} and list(stage) == sorted(stage)
    assert outputs['thermo'].get_array('temp')[stage == 1][0] == pytest.approx(300.0, rel=1e-6)
