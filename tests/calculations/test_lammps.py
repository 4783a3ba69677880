"""``LammpsCalculation``: the input script and data file it renders for each case, kept by file regression."""

import math

import pytest

from ..job_cases import LAMMPS


def same_to_round_off(obtained, expected):
    """Check that two data files hold the same words and the same numbers to 1e-9 A (rotations into LAMMPS's
    frame round differently from one numpy build to another in the 14th digit)."""
    words = [path.read_text().split() for path in (obtained, expected)]
    assert len(words[0]) == len(words[1]), f'{obtained} and {expected} differ in length'
    for got, want in zip(*words):
        try:
            assert math.isclose(float(got), float(want), abs_tol=1e-9), f'{got} != {want} in {obtained}'
        except ValueError:
            assert got == want, f'{got} != {want} in {obtained}'


@pytest.mark.parametrize('case', sorted(LAMMPS))
def test_lammps_inputs(render, file_regression, data_regression, case):
    folder, summary = render('lammps', case)
    file_regression.check((folder / 'aiida.in').read_text(), basename=f'{case}-aiida', extension='.in')
    file_regression.check(
        (folder / 'structure.data').read_text(), basename=f'{case}-structure', extension='.data', check_fn=same_to_round_off
    )
    data_regression.check(summary, basename=f'{case}-calcinfo')


def test_a_run_that_keeps_its_atoms_remote_does_not_retrieve_them(render):
    _, summary = render('lammps', 'atoms_stay_remote')
    _, full = render('lammps', 'relax_md')
    assert set(full['retrieve_list']) - set(summary['retrieve_list']) == {'final.dump'}
