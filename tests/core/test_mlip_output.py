"""MLIP-3 files read back, on genuine `mlp` outputs (tests/fixtures/mlip3, unedited)."""

from pathlib import Path

import numpy as np
import pytest

from aiida_defectgenome.core.mlip.mlip_cfg import CfgError, read_cfg
from aiida_defectgenome.core.mlip.mlip_output import cut_sources, errors_report, grades_of, mlp_failure, selected_count

MLIP3 = Path(__file__).parents[1] / 'fixtures' / 'mlip3'


def text(name: str) -> str:
    return (MLIP3 / name).read_text()


def test_calculate_efs_output_is_read_and_agrees_with_mlps_own_errors_report():
    dft, mtp = read_cfg(text('W_efs_60-69.cfg')), read_cfg(text('efs_60-69.cfg.0'), 'efs_60-69.cfg.0')
    assert len(dft) == len(mtp) == 10 and sum(len(c.types) for c in mtp) == 603
    assert all(np.array_equal(a.positions, b.positions) and np.allclose(a.cell, b.cell) for a, b in zip(dft, mtp))
    assert dft[0].plus_stress is None and mtp[0].plus_stress.shape == (6,)  # calculate_efs adds the virial
    assert mtp[0].features == {'EFS_by': 'MultiMTP10', 'extxyz_index': '60', 'source_index': '98'}
    report = errors_report(text('check_errors_report.txt'))
    per_atom = np.array([(m.energy - d.energy) / len(d.types) for m, d in zip(mtp, dft)])
    assert np.sqrt(np.mean(per_atom**2)) == pytest.approx(report['energy_per_atom']['rms'], abs=1e-6)
    difference = np.vstack([m.forces - d.forces for m, d in zip(mtp, dft)])
    # MLIP-3's force RMS is over the atoms' force vectors: sqrt(3) x the RMSE per component
    assert np.sqrt(np.mean(np.sum(difference**2, axis=1))) == pytest.approx(report['forces']['rms'], abs=1e-6)
    assert np.sqrt(np.mean(difference**2)) == pytest.approx(0.25723, abs=1e-5)
    assert report['forces']['count'] == 603 and report['stresses']['count'] == 0


def test_the_training_log_ends_with_the_train_errors():
    report = errors_report(text('train_cfgmode.stdout'))
    assert report['energy_per_atom'] == {'count': 60, 'max': 0.031367, 'mean': 0.00675768, 'rms': 0.00880062}
    assert report['forces']['rms'] == 0.3014 and report['forces']['rms_relative'] == 0.192545
    with pytest.raises(ValueError, match='no errors report'):
        errors_report(text('calculate_efs.stdout'))
    with pytest.raises(ValueError, match='cut short: no stresses, virial_stresses'):
        errors_report(text('check_errors_report.txt').split('Stresses')[0])


def test_grades_per_configuration_and_per_neighbourhood():
    grades = grades_of(text('calculate_grade_cfgmode.stdout'))
    assert len(grades) == 40 and grades.min() == 0.569081 and grades.max() == 5.82624
    graded = read_cfg(text('graded_nbhmode_68.cfg.0'))[0]
    nbh = graded.columns['nbh_grades']
    assert nbh.shape == (20,) and np.argmax(nbh) == 4 and float(graded.features['MV_grade']) == pytest.approx(nbh.max(), abs=1e-5)
    assert np.array_equal(graded.positions, read_cfg(text('W_one_68.cfg'))[0].positions)
    cut = read_cfg(text('spherical_68.cfg'))[0]  # the neighbourhood of atom 4 (0-based), as a cluster
    assert cut.cell is None and cut.forces is None and cut.energy is None and len(cut.types) == 74
    assert np.allclose(cut.positions[0], 0.0) and cut.features['nbh#'] == '4'
    assert 'atoms count is 73' in text('cut_extrapolative_nbh_one.stdout')  # mlp counts the neighbours only


def test_selected_configurations_and_their_count():
    selected = read_cfg(text('selected_nbhmode_100-199.cfg'))
    assert selected_count(text('select_add_nbhmode.stdout')) == len(selected) == 11
    assert all('selected_eqn_inds' in c.features for c in selected)
    with pytest.raises(ValueError, match='did not report'):
        selected_count(text('calculate_efs.stdout'))


@pytest.mark.parametrize(
    'run, message',
    [
        ('fail_train_missing_cfg', 'Can\'t open file "does_not_exist.cfg" for reading configurations'),
        ('fail_train_missing_cfg_mpirun', 'Can\'t open file "does_not_exist.cfg" for reading configurations'),
        ('fail_train_wrong_size_cfg', 'Unable to read AtomData. Wrong Size specified?'),
        ('fail_train_truncated_cfg', 'Unable to read field name'),
        ('fail_train_missing_args', 'mlp train: 2 arguments are required'),  # exit status 0, on stdout
        ('fail_grade_no_selection_state', 'No selection data provided with MLIP'),  # no ERROR: word
        ('calculate_efs', None),
    ],
)
def test_mlps_failures_in_its_own_words(run, message):
    assert mlp_failure(text(f'{run}.stdout'), text(f'{run}.stderr')) == message


def test_broken_cfg_files_are_refused_naming_the_line():
    with pytest.raises(CfgError, match=r'W_wrong_size.cfg, line 9: AtomData \(Size 3\) is not 3 rows of 8 numbers'):
        read_cfg(text('W_wrong_size.cfg'), 'W_wrong_size.cfg')
    with pytest.raises(CfgError, match='ends without END_CFG'):
        read_cfg(text('W_truncated.cfg'))
    with pytest.raises(CfgError, match='line 1: expected BEGIN_CFG'):
        read_cfg('Size\n 2\n')


def test_each_cut_neighbourhood_is_traced_to_its_configuration_and_central_atom():
    graded = read_cfg(text('graded_nbhmode_60-99.cfg.0'))
    cuts = read_cfg(text('spherical_60-99.cfg'))
    sources = cut_sources(graded, cuts)
    # mlp's own cfg# counts the cuts (0-6); the sources are configurations 3, 4, 8, 25, 28, 35, 39 of the input
    assert [c.features['cfg#'] for c in cuts] == [str(k) for k in range(7)]
    assert sources == [(3, 22), (4, 21), (8, 4), (25, 0), (28, 2), (35, 0), (39, 20)]
    assert [graded[i].features['extxyz_index'] for i, _ in sources] == ['63', '64', '68', '85', '88', '95', '99']
    for cut, (index, atom) in zip(cuts, sources):  # centred on that atom: its nearest neighbours are the cut's
        source = graded[index]
        gaps = np.linalg.norm(cut.positions[1:], axis=1)
        assert np.allclose(cut.positions[0], 0.0) and gaps.min() == pytest.approx(_nearest(source, atom), abs=1e-4)
    with pytest.raises(ValueError, match='7 cuts for 6 configurations'):
        cut_sources([c for k, c in enumerate(graded) if k != 39], cuts)
    with pytest.raises(ValueError, match='cut 1 is not the most extrapolative neighbourhood of configuration 4'):
        cut_sources(graded, [cuts[0], cuts[2], *cuts[2:]][:7])


def _nearest(configuration, atom: int) -> float:
    """Distance (A) from ``atom`` to its nearest neighbour in the periodic ``configuration``."""
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)]) @ configuration.cell
    vectors = (configuration.positions[None] + shifts[:, None] - configuration.positions[atom]).reshape(-1, 3)
    distances = np.linalg.norm(vectors, axis=1)
    return distances[distances > 1e-6].min()
