"""The aiida-defectgenome command: setup twice, potentials, genome import/list/show/export, bad input."""

import os
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest

from aiida_defectgenome.core.lammps.runtime import potentials_directory
from aiida_defectgenome.core.structures.datasets import read_configurations

BASIC_W = Path(__file__).parents[1] / 'aiida_defectgenome' / 'resources' / 'W-basic-dft.extxyz.gz'


def test_setup_twice_on_a_fresh_aiida_path_is_a_no_op_the_second_time(tmp_path):
    env = {**os.environ, 'AIIDA_PATH': str(tmp_path)}
    command = [str(Path(sys.executable).parent / 'aiida-defectgenome'), 'setup']
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert 'Created profile `defectgenome` (storage core.sqlite_dos, broker core.zeromq)' in first.stdout
    assert 'Created code `lammps@localhost`' in first.stdout and 'Created code `python@localhost`' in first.stdout
    assert 'Registered `eam-zhou-W`' in first.stdout
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert 'Nothing to do: everything was already set up.' in second.stdout
    assert 'Created' not in second.stdout and 'Registered' not in second.stdout


def test_potential_register_and_list(cli, tmp_path):
    source = potentials_directory() / 'W_zhou.eam.alloy'
    result = cli(
        'potential', 'register', source, '--name', 'my-W', '--species', 'W', '--pair-style', 'eam/alloy', '--citation', 'Zhou 2004'
    )
    assert result.exit_code == 0, result.output
    assert 'pair_coeff * * W_zhou.eam.alloy W' in result.output
    again = cli(
        'potential', 'register', source, '--name', 'my-W', '--species', 'W', '--pair-style', 'eam/alloy', '--citation', 'Zhou 2004'
    )
    assert 'already registered' in again.output
    listing = cli('potential', 'list')
    assert 'my-W' in listing.output and 'eam/alloy' in listing.output


def test_a_hybrid_potential_is_registered_with_one_pair_coeff_line_per_style(cli):
    """The published W SNAP with its ZBL core, as a user registers it: LAMMPS checks it before it is stored."""
    folder = potentials_directory()
    files = [folder / 'W_2940_2017_2.snapcoeff', folder / 'W_2940_2017_2.snapparam']
    style, template = 'hybrid/overlay zbl 4.0 4.8 snap', '* * zbl 74 74; * * snap {files[0]} {files[1]} {elements}'
    register = ['potential', 'register', *files, '--species', 'W', '--pair-style', style]
    result = cli(*register, '--name', 'my-snap-W', '--pair-coeff', template)
    assert result.exit_code == 0, result.output
    assert 'pair_coeff * * zbl 74 74 pair_coeff * * snap W_2940_2017_2.snapcoeff W_2940_2017_2.snapparam W' in result.output
    without_zbl = cli(*register, '--name', 'no-zbl')
    assert without_zbl.exit_code != 0 and 'LAMMPS cannot use potential `no-zbl`' in without_zbl.output


@pytest.mark.parametrize(
    'args, message',
    [
        (
            ['/nonexistent/W.eam.alloy', '--name', 'x', '--species', 'W', '--pair-style', 'eam/alloy'],
            'potential file not found: /nonexistent/W.eam.alloy',
        ),
        (
            [potentials_directory() / 'W_zhou.eam.alloy', '--name', 'x', '--species', 'Mo', '--pair-style', 'eam/alloy'],
            'species Mo not in W_zhou.eam.alloy (it describes: W)',
        ),
        (
            [potentials_directory() / 'library.meam', '--name', 'x', '--species', 'Zz', '--pair-style', 'meam'],
            'not chemical elements: Zz',
        ),
        (  # a funcfl file names its element by atomic number (29)
            [potentials_directory() / 'Cu_u3.eam', '--name', 'x', '--species', 'Ni', '--pair-style', 'eam'],
            'species Ni not in Cu_u3.eam (it describes: Cu)',
        ),
        (
            [
                *[potentials_directory() / 'CuNi.eam.alloy'],
                '--name',
                'x',
                '--species',
                'Cu',
                '--species',
                'Al',
                '--pair-style',
                'eam/alloy',
            ],
            'species Al not in CuNi.eam.alloy (it describes: Ni, Cu)',
        ),
    ],
)
def test_potential_register_bad_input_is_one_clear_line(cli, args, message):
    result = cli('potential', 'register', *args)
    assert result.exit_code == 1
    assert result.output.strip() == f'Error: {message}'


def test_genome_import_show_export_round_trip(aiida_profile_clean, cli, tmp_path):
    # a clean database: the counts below assume none of these configurations is stored yet
    result = cli('genome', 'import', BASIC_W, '--group', 'W-basic')
    assert result.exit_code == 0, result.output
    assert '678 configurations imported' in result.output
    again = cli('genome', 'import', BASIC_W, '--group', 'W-basic')
    assert '0 configurations imported' in again.output and '678 already in the group' in again.output
    other = cli('genome', 'import', BASIC_W, '--group', 'W-copy')
    assert '678 already stored elsewhere and added' in other.output

    assert 'W-basic' in cli('genome', 'list').output
    show = cli('genome', 'show', 'W-basic').output
    assert 'Configurations: 678' in show and 'Atoms:          48761' in show and 'energy 678, forces 678' in show

    output = tmp_path / 'out.extxyz'
    assert cli('genome', 'export', 'W-basic', '--format', 'extxyz', '--output', output).exit_code == 0
    exported = ase.io.read(output, index=':')
    original = read_configurations(BASIC_W)
    assert len(exported) == len(original) == 678
    from aiida import orm

    for frame in exported:
        index = orm.load_node(frame.info['uuid']).base.extras.get('dg_source_index')
        atoms, labels = original[index]
        assert frame.get_potential_energy() == pytest.approx(labels.energy, abs=1e-8)
        assert np.allclose(frame.get_forces(), labels.forces)
        assert np.allclose(frame.positions, atoms.positions)
        assert np.allclose(frame.cell.array, atoms.cell.array)


def test_genome_import_provenance_reaches_the_file(aiida_profile_clean, cli):
    # a clean database: the first import of these configurations must be this file's
    from aiida import orm

    from aiida_defectgenome.services.genome import load_genome

    cli('genome', 'import', BASIC_W, '--group', 'W-prov')
    structure = next(iter(load_genome('W-prov').nodes))
    creator = structure.creator
    assert creator.process_label == 'import_configurations'
    assert creator.inputs.source.filename == 'W-basic-dft.extxyz.gz'
    table = orm.load_node(structure.base.extras.get('dg_labels'))
    assert table.creator.uuid == creator.uuid


@pytest.mark.parametrize(
    'content, message',
    [('not a structure\n', 'cannot read bad.extxyz'), (None, 'no energy and forces')],
)
def test_genome_import_bad_input_is_one_clear_line(cli, tmp_path, content, message):
    path = tmp_path / 'bad.extxyz'
    if content is None:
        ase.io.write(path, ase.build.bulk('W', 'bcc', a=3.17), format='extxyz')
    else:
        path.write_text(content)
    result = cli('genome', 'import', path, '--group', 'never')
    assert result.exit_code == 1
    assert result.output.startswith('Error: ') and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_genome_and_missing_profile_are_clear(cli, tmp_path):
    result = cli('genome', 'show', 'nope')
    assert result.exit_code == 1 and 'no genome group `nope`' in result.output
    env = {**os.environ, 'AIIDA_PATH': str(tmp_path)}
    command = [str(Path(sys.executable).parent / 'aiida-defectgenome'), 'genome', 'list']
    bare = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert bare.returncode == 1
    assert 'run `aiida-defectgenome setup` first' in bare.stderr


def test_a_two_element_eam_registers_in_either_order_and_lammps_maps_each_element_by_name(cli):
    """CuNi.eam.alloy lists Ni, Cu; registered as Cu, Ni or as Ni, Cu, each element's crystal gets the same energy."""
    from aiida_defectgenome.core.lammps.potential_check import check_potential
    from aiida_defectgenome.data.potential_registry import load_potential, potential_files

    energies = []
    for name, species in (('cuni', ('Cu', 'Ni')), ('nicu', ('Ni', 'Cu'))):
        args = [potentials_directory() / 'CuNi.eam.alloy', '--name', name, '--pair-style', 'eam/alloy']
        result = cli('potential', 'register', *args, *[w for s in species for w in ('--species', s)])
        assert result.exit_code == 0, result.output
        assert load_potential(name).species == list(species)
        with potential_files(load_potential(name)) as spec:
            energies.append(check_potential(spec))
    assert energies[0] == pytest.approx(energies[1], abs=1e-9)
    assert energies[0]['Cu'] == pytest.approx(-3.54, abs=0.01) and energies[0]['Ni'] == pytest.approx(-4.45, abs=0.01)
