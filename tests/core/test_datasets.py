import gzip

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from aiida_defectgenome.core.structures.datasets import DatasetError, Labels, fingerprint, labelled_atoms, read_configurations


def _frame(shift=0.0, energy=-10.0, stress=None):
    atoms = bulk('W', 'bcc', a=3.17, cubic=True)
    atoms.positions[0] += shift
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=np.full((2, 3), 0.1), stress=stress)
    return atoms


def test_gzip_and_plain_files_read_the_same(tmp_path):
    frames = [_frame(0.0), _frame(0.1, -9.0, stress=np.arange(6.0))]
    plain = tmp_path / 'set.extxyz'
    ase.io.write(plain, frames)
    packed = tmp_path / 'set.extxyz.gz'
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed):
        configurations = read_configurations(path)
        assert [labels.energy for _, labels in configurations] == [-10.0, -9.0]
        assert configurations[0][1].stress is None
        assert configurations[1][1].stress.shape == (3, 3)
        assert np.allclose(configurations[1][0].positions, frames[1].positions)


def test_frames_without_labels_are_refused(tmp_path):
    path = tmp_path / 'bare.xyz'
    ase.io.write(path, bulk('W', 'bcc', a=3.17, cubic=True), format='extxyz')
    with pytest.raises(DatasetError, match='no energy and forces'):
        read_configurations(path)


def test_unreadable_and_missing_files_are_refused(tmp_path):
    path = tmp_path / 'garbage.extxyz'
    path.write_text('this is not\na structure file\n')
    with pytest.raises(DatasetError, match='cannot read garbage.extxyz'):
        read_configurations(path)
    with pytest.raises(DatasetError, match='no such file'):
        read_configurations(tmp_path / 'absent.extxyz')


def test_fingerprint_tells_configurations_and_labels_apart():
    a, b = _frame(0.0), _frame(0.1)
    labels = Labels(energy=-10.0, forces=np.zeros((2, 3)))
    assert fingerprint(a, labels) != fingerprint(b, labels)
    assert fingerprint(a.copy(), labels) == fingerprint(a, labels)
    assert fingerprint(a, Labels(energy=-9.0, forces=labels.forces)) != fingerprint(a, labels)
    assert labelled_atoms(a, labels).get_potential_energy() == -10.0
