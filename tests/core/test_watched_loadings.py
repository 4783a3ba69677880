"""Watched MD under the EIP loadings: split into graded chunks, it moves atoms and box as one LAMMPS run does."""

import numpy as np
import pytest
from ase.build import bulk

from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor
from aiida_defectgenome.core.doptimality.screening import active_set_of
from aiida_defectgenome.core.jobs.gamma_md import run_watched_md, validate_watch
from aiida_defectgenome.core.lammps.local import run_lammps
from aiida_defectgenome.core.lammps.potentials import bundled_potential
from aiida_defectgenome.core.lammps.sampling_plan import plan_runs
from aiida_defectgenome.core.structures.geometry import minimum_image
from aiida_defectgenome.protocols import read_protocol

from ..defect_cells import A0


@pytest.fixture(scope='module')
def eam():
    return bundled_potential('eam-zhou-W')


@pytest.fixture(scope='module')
def two_crystals():
    """An active set that everything here extrapolates from (gamma >> 1), so every check saves its snapshot."""
    crystals = [bulk('W', 'bcc', a=a, cubic=True).repeat(2) for a in (3.1, 3.2)]
    return active_set_of(crystals, SnapDescriptor(twojmax=4))


def _planned(name: str, steps: int):
    """The first run the `fast` protocol plans for scenario ``name``, its MD stages cut to ``steps``."""
    run = plan_runs([name], 'W', A0, read_protocol('eip_sampling', 'fast')[1])[0]
    stages = [{**stage, 'steps': steps} if 'steps' in stage else stage for stage in run.parameters['stages']]
    return run.atoms, stages, run.parameters['frozen']


def _rattled_crystal():
    crystal = bulk('W', 'bcc', a=A0, cubic=True).repeat(4)
    crystal.rattle(0.05, seed=1)
    return crystal


def _pressing_indentation():
    """The planned indentation with the indenter starting 0.3 A into the surface and moving fast."""
    atoms, stages, frozen = _planned('indentation', 100)
    start = stages[0]['start']
    stages[0] = {**stages[0], 'start': [start[0], start[1], start[2] - 2.3], 'velocity': 5.0}
    return atoms, stages, frozen


CASES = {
    'tension with a lateral barostat': lambda: (_rattled_crystal(), [
        {'type': 'minimize'},
        {'type': 'deform', 'mode': 'tension', 'axis': 'x', 'strain_rate': 0.05, 'steps': 300, 'temperature': 300.0},
    ], 0),
    'shear': lambda: (_rattled_crystal(), [
        {'type': 'deform', 'mode': 'shear', 'axis': 'xy', 'strain_rate': 0.05, 'steps': 200, 'temperature': 300.0},
    ], 0),
    'indentation': _pressing_indentation,
    'crack K ramp': lambda: _planned('crack', 100),
}  # fmt: skip


@pytest.mark.parametrize('case', CASES)
def test_a_watched_loading_ends_where_the_eip_run_ends(eam, two_crystals, case):
    """Chunks of 25 steps (run n start S stop E) give the final box and positions of one LAMMPS run to 1e-10 A."""
    atoms, stages, frozen = CASES[case]()
    watched = run_watched_md(atoms, eam, two_crystals, stages, frozen, every=25, save_threshold=1.0, break_threshold=1e300)
    md_steps = sum(s['steps'] * s.get('increments', 1) for s in stages if s['type'] != 'minimize')
    assert watched.stopped == '' and watched.steps == md_steps
    assert watched.check_steps == list(range(25, md_steps + 1, 25)) and len(watched.saved) == md_steps // 25
    reference = run_lammps(atoms, eam, {'stages': stages, 'frozen': frozen})['atoms']
    last = watched.saved[-1]
    assert np.allclose(last.cell.array, reference.cell.array, atol=1e-10)
    assert np.abs(minimum_image(last.positions - reference.positions, reference.cell.array, reference.pbc)).max() < 1e-10
    assert not np.allclose(last.positions, atoms.positions, atol=1e-3)  # the loading did move the atoms
    assert last.arrays['gamma'].shape == (len(atoms),) and last.info['gamma_max'] == last.arrays['gamma'].max()


def test_the_nvt_shorthand_is_one_md_stage():
    settings = validate_watch({'temperature': 900.0, 'steps': 50, 'every': 5})
    (stage,) = settings['stages']
    assert (stage['type'], stage['ensemble'], stage['temperature'], stage['steps']) == ('md', 'nvt', 900.0, 50)
    assert settings == validate_watch(settings)  # what a job reads back validates to itself


@pytest.mark.parametrize(
    ('settings', 'message'),
    [
        ({'temperature': 300.0}, 'need stages, or steps'),
        ({'stages': [{'type': 'md'}], 'temperature': 300.0}, 'either stages or the NVT shorthand'),
        ({'stages': [{'type': 'minimize'}]}, 'needs MD stages'),
        (
            {'stages': [{'type': 'md'}, {'type': 'gcmc', 'region': {'centre': [0, 0, 0], 'radius': 1.0, 'periodic_axes': []}}]},
            'needs MD stages',
        ),
        ({'stages': [{'type': 'md', 'stepz': 3}]}, r'unknown key\(s\) stepz'),
        ({'stages': [{'type': 'md'}], 'every': 0}, 'every must be a positive integer'),
        ({'stages': [{'type': 'md'}], 'save_threshold': 3.0, 'break_threshold': 2.0}, 'save_threshold <= break_threshold'),
    ],
)
def test_bad_watch_settings_say_what_is_wrong(settings, message):
    with pytest.raises(ValueError, match=message):
        validate_watch(settings)
