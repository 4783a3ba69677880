"""``LammpsCalculation``: the input script and data file it renders for each case, kept by file regression."""

import pytest

from ..job_cases import LAMMPS


@pytest.mark.parametrize('case', sorted(LAMMPS))
def test_lammps_inputs(render, file_regression, data_regression, case):
    folder, summary = render('lammps', case)
    file_regression.check((folder / 'aiida.in').read_text(), basename=f'{case}-aiida', extension='.in')
    file_regression.check((folder / 'structure.data').read_text(), basename=f'{case}-structure', extension='.data')
    data_regression.check(summary, basename=f'{case}-calcinfo')


def test_a_run_that_keeps_its_atoms_remote_does_not_retrieve_them(render):
    _, summary = render('lammps', 'atoms_stay_remote')
    _, full = render('lammps', 'relax_md')
    assert set(full['retrieve_list']) - set(summary['retrieve_list']) == {'final.dump'}
