"""Per-atom grades from an MTP's own active set (MLIP-3 `mlp calculate_grade`), and centres chosen by grade.

The tests that run `mlp` are skipped where it is not on PATH (nor named by DG_MLP); the others read the
genuine MLIP-3 files of tests/fixtures/mlip3.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from aiida_defectgenome.core.doptimality.selection import select_by_grade
from aiida_defectgenome.core.mlip.mlip_cfg import read_cfg
from aiida_defectgenome.core.mlip.mtp_grading import MtpGrader, almtp_cutoff, almtp_selection_mode
from aiida_defectgenome.core.structures.datasets import read_configurations
from aiida_defectgenome.tools.demo import BASIC_W_DATASET

MLIP3 = Path(__file__).parents[1] / 'fixtures' / 'mlip3'
MLP = os.environ.get('DG_MLP') or shutil.which('mlp')
needs_mlp = pytest.mark.skipif(not MLP, reason='MLIP-3 `mlp` is not on PATH (set DG_MLP to its path): no real grading here')


def test_the_active_set_kind_and_cutoff_are_read_from_genuine_almtp_files():
    assert almtp_selection_mode((MLIP3 / 'trained_nbhmode.almtp').read_bytes()) == 'nbh'
    assert almtp_selection_mode((MLIP3 / 'trained_cfgmode.almtp').read_bytes()) == 'cfg'
    assert almtp_selection_mode((MLIP3 / 'input_08.almtp').read_bytes()) is None  # an untrained template
    assert almtp_cutoff((MLIP3 / 'trained_nbhmode.almtp').read_bytes()) == 5.0
    with pytest.raises(ValueError, match='no max_dist'):
        almtp_cutoff(b'pair_style eam')


def test_an_mtp_that_cannot_grade_atoms_is_refused_with_the_reason():
    for name, said in (('trained_cfgmode.almtp', r'al_mode=cfg'), ('input_08.almtp', 'no active set')):
        with pytest.raises(ValueError, match=f'{said}.*per-atom grades need an MTP trained with --al_mode=nbh'):
            MtpGrader('mlp', MLIP3 / name, ['W']).check()
    assert MtpGrader('mlp', MLIP3 / 'trained_nbhmode.almtp', ['W']).check() == 5.0


def test_a_program_that_is_not_mlp_is_reported_not_read(tmp_path):
    grader = MtpGrader(shutil.which('echo'), MLIP3 / 'trained_nbhmode.almtp', ['W'])
    with pytest.raises(RuntimeError, match=r'mlp calculate_grade failed \(exit 0\): calculate_grade'):
        grader.grade([bulk('W', 'bcc', a=3.165, cubic=True)], tmp_path)


def test_centres_by_grade_skip_an_environment_seen_again_in_a_later_snapshot():
    first = bulk('W', 'bcc', a=3.165, cubic=True).repeat(4)  # 128 atoms, 12.66 A
    later = first.copy()
    later.positions[5] += 0.1
    grades = [np.full(128, 0.5), np.full(128, 0.5)]
    grades[0][[5, 6]] = [3.0, 2.5]  # 6 is a nearest neighbour of 5: one environment
    grades[1][[5, 100]] = [4.0, 2.2]  # 5 again, barely moved; 100 far away
    frame, atom, grade, preselected, repeats = select_by_grade([first, later], grades, threshold=2.0, distance=3.0)
    assert list(zip(frame, atom)) == [(1, 5), (1, 100)] and grade.tolist() == [4.0, 2.2]
    assert preselected == 4 and repeats == 2
    frame, atom, grade, _, _ = select_by_grade([first, later], grades, threshold=2.0, distance=3.0, limit=1)
    assert list(zip(frame, atom)) == [(1, 5)]
    frame, atom, _, _, repeats = select_by_grade([first, later], grades, threshold=2.0, distance=0.05)
    assert len(atom) == 4 and repeats == 0  # closer than nothing: every atom above the threshold is its own
    assert len(select_by_grade([first], [np.zeros(128)], threshold=2.0, distance=3.0)[1]) == 0


@needs_mlp
def test_grades_equal_those_of_the_genuine_mlp_run(tmp_path):
    """Configuration 68 of the basic set graded here gives the nbh_grades of the fixture run (5 decimals)."""
    atoms, _ = read_configurations(BASIC_W_DATASET)[68]
    (grades,) = MtpGrader(MLP, MLIP3 / 'trained_nbhmode.almtp', ['W']).grade([atoms], tmp_path)
    (genuine,) = read_cfg((MLIP3 / 'graded_nbhmode_68.cfg.0').read_text())
    assert np.allclose(grades, genuine.columns['nbh_grades'], atol=1e-5) and grades.max() > 1.8
    assert not list(tmp_path.iterdir())  # its files are removed once read
