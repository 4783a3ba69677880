"""MLIP-3 .cfg blocks: types, units and the sign and order of the virial (PlusStress)."""

import numpy as np
import pytest
from ase.build import bulk

from aiida_defectgenome.core.mlip.mlip_cfg import cfg_block
from aiida_defectgenome.core.structures.datasets import Labels


def test_block_holds_cell_types_forces_energy_and_the_virial():
    atoms = bulk('W', 'bcc', a=3.2, cubic=True) * (2, 1, 1)
    atoms[1].symbol = 'Mo'
    forces = np.arange(12, dtype=float).reshape(4, 3) / 10
    stress = np.array([[1.0, 0.4, 0.5], [0.4, 2.0, 0.6], [0.5, 0.6, 3.0]]) * 1e-2  # eV/A^3, ASE sign (tension > 0)
    lines = cfg_block(atoms, Labels(-40.5, forces, stress), ['Mo', 'W'], {'uuid': 'abc'}).strip().splitlines()
    assert lines[0] == 'BEGIN_CFG' and lines[-1] == 'END_CFG' and int(lines[2]) == 4
    assert np.allclose(np.array([line.split() for line in lines[4:7]], dtype=float), atoms.cell[:])
    rows = np.array([line.split() for line in lines[8:12]], dtype=float)
    assert rows[:, 0].tolist() == [1, 2, 3, 4] and rows[:, 1].tolist() == [1, 0, 1, 1]  # Mo is type 0
    assert np.allclose(rows[:, 2:5], atoms.positions) and np.allclose(rows[:, 5:8], forces)
    assert float(lines[13]) == -40.5
    assert lines[14].split() == ['PlusStress:', 'xx', 'yy', 'zz', 'yz', 'xz', 'xy']
    volume = atoms.get_volume()
    assert np.allclose(np.array(lines[15].split(), dtype=float), -volume * np.array([1.0, 2.0, 3.0, 0.6, 0.5, 0.4]) * 1e-2)
    assert lines[16].split() == ['Feature', 'uuid', 'abc']


def test_cluster_has_no_cell_and_no_stress_and_unknown_elements_are_refused():
    atoms = bulk('W', 'bcc', a=3.2, cubic=True)
    atoms.pbc = False
    text = cfg_block(atoms, Labels(-20.0, np.zeros((2, 3)), None), ['W'])
    assert 'Supercell' not in text and 'PlusStress' not in text
    with pytest.raises(ValueError, match='elements W are not among the species'):
        cfg_block(atoms, Labels(-20.0, np.zeros((2, 3)), None), ['Mo'])


def test_what_the_writer_writes_the_reader_reads_back():
    from aiida_defectgenome.core.mlip.mlip_cfg import read_cfg

    atoms = bulk('W', 'bcc', a=3.2, cubic=True) * (2, 1, 1)
    forces, stress = np.arange(12, dtype=float).reshape(4, 3) / 10, np.eye(3) * 1e-2
    block = cfg_block(atoms, Labels(-40.5, forces, stress), ['W'], {'uuid': 'abc'})
    (back,) = read_cfg(block + block.replace('-40.5', '-41.0'))[:1]
    assert np.allclose(back.positions, atoms.positions) and np.allclose(back.cell, atoms.cell[:])
    assert np.allclose(back.forces, forces) and back.energy == -40.5 and back.features == {'uuid': 'abc'}
    assert np.allclose(back.plus_stress, -atoms.get_volume() * np.array([1, 1, 1, 0, 0, 0]) * 1e-2)
    assert len(read_cfg(block * 3)) == 3
