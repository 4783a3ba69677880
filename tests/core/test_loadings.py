"""Loading stages on real LAMMPS: tension, compression, shear at a strain rate, indentation of a slab, a K ramp."""

import numpy as np
import pytest
from ase.build import bulk

from aiida_defectgenome.core.lammps.inputs import validate_parameters
from aiida_defectgenome.core.lammps.local import run_lammps
from aiida_defectgenome.core.lammps.potentials import bundled_potential
from aiida_defectgenome.core.structures.cracks import crack_slab, k_field
from aiida_defectgenome.core.structures.scenarios import indentation_slab

from ..defect_cells import A0

RATE, STEPS, DT = 0.02, 500, 0.001  # 1/ps, steps, ps: 1 % strain


@pytest.fixture(scope='module')
def eam():
    return bundled_potential('eam-zhou-W')


@pytest.mark.parametrize(('mode', 'axis'), [('tension', 'x'), ('compression', 'z'), ('shear', 'xy')])
def test_the_box_deforms_at_the_strain_rate(eam, mode, axis):
    crystal = bulk('W', 'bcc', a=A0, cubic=True) * 5
    stage = {'type': 'deform', 'mode': mode, 'axis': axis, 'strain_rate': RATE, 'steps': STEPS, 'timestep': DT, 'temperature': 50.0}
    final = run_lammps(crystal, eam, {'stages': [stage]})['atoms']
    strain = RATE * STEPS * DT
    lengths, start = final.cell.lengths(), crystal.cell.lengths()
    if mode == 'shear':
        assert np.isclose(final.cell[1, 0] / start[1], strain, rtol=0.02)  # tilt xy / ly grows at the rate
    else:
        k = 'xyz'.index(axis)
        sign = 1 if mode == 'tension' else -1
        assert np.isclose(lengths[k] / start[k] - 1, sign * strain, rtol=0.02)
        others = [i for i in range(3) if i != k]
        assert np.all(sign * (lengths[others] / start[others] - 1) < 0.2 * strain)  # lateral: barostat, no forced strain


def test_an_indenter_pushes_the_surface_in_while_the_bottom_stays(eam):
    slab = indentation_slab('W', A0, size=(25.0, 25.0, 16.0), fixed=3.0, thermostat=4.0)
    top = slab.info['surface']
    centre = [*(slab.cell.lengths()[:2] / 2), top + 10.0 + 2.0]  # radius 10 A, 2 A above the surface
    stage = {
        'type': 'indent',
        'radius': 10.0,
        'velocity': 1.0,  # A/ps: 4 A in 4 ps, so the tip goes 2 A into the surface
        'start': centre,
        'thermostat_below': slab.info['thermostat_below'],
        'steps': 2000,
        'timestep': 0.002,
        'temperature': 50.0,
    }
    parameters = {'stages': [stage], 'frozen': slab.info['n_fixed']}
    final = run_lammps(slab, eam, parameters)['atoms']
    n = slab.info['n_fixed']
    assert np.allclose(final.positions[:n], slab.positions[:n], atol=1e-9)  # the bottom is held
    under = np.hypot(*(slab.positions[:, :2] - centre[:2]).T) < 3.0
    surface = under & (slab.positions[:, 2] > top - 0.5)
    assert (final.positions[surface, 2] < slab.positions[surface, 2] - 0.5).all()  # pressed in (the slab gives too)


def test_loading_stages_are_checked():
    with pytest.raises(ValueError, match='axis of shear'):
        validate_parameters({'stages': [{'type': 'deform', 'mode': 'shear', 'axis': 'x'}]})
    with pytest.raises(ValueError, match='start must be the indenter centre'):
        validate_parameters({'stages': [{'type': 'indent'}]})
    with pytest.raises(ValueError, match='strain_rate'):
        validate_parameters({'stages': [{'type': 'deform', 'strain_rate': 0}]})


def test_a_k_ramp_moves_the_shell_by_the_k_field_and_opens_the_crack(eam):
    """Three increments of 0.3 MPa m^1/2: the held shell moves by exactly the K field of 0.9 MPa m^1/2 at its
    start positions, and the crack behind the tip opens wider than under plain MD at the starting K."""
    slab = crack_slab('W', A0, '(010)[001]', radius=20.0, k=1.0)
    slab, held = slab[np.argsort(~slab.arrays['fixed'], kind='stable')], int(slab.arrays['fixed'].sum())  # held first
    tip = slab.info['tip']
    ramp = {'type': 'k_ramp', 'tip': tip, 'k_step': 0.3, 'increments': 3, 'steps': 100, 'timestep': 0.002, 'temperature': 10.0}
    plain = {'type': 'md', 'steps': 300, 'timestep': 0.002, 'temperature': 10.0}
    ramped = run_lammps(slab, eam, {'stages': [ramp], 'frozen': held})['atoms']
    still = run_lammps(slab, eam, {'stages': [plain], 'frozen': held})['atoms']
    expected = k_field(slab.positions[:held, :2] - tip, 0.9, 160.0, 0.28)
    assert np.allclose(ramped.positions[:held, :2] - slab.positions[:held, :2], expected, atol=1e-6)
    assert np.allclose(ramped.positions[:held, 2], slab.positions[:held, 2], atol=1e-9)

    def opening(atoms):
        p = atoms.positions[:, :2] - tip
        behind = (p[:, 0] < -5) & (p[:, 0] > -12)
        return p[behind & (p[:, 1] > 0), 1].min() - p[behind & (p[:, 1] < 0), 1].max()

    assert opening(ramped) > opening(still) + 0.1
    with pytest.raises(ValueError, match='needs held atoms'):
        run_lammps(slab, eam, {'stages': [ramp]})


def test_the_planned_crack_runs_raise_k_in_the_protocols_steps(eam):
    from aiida_defectgenome.core.lammps.sampling_plan import plan_runs
    from aiida_defectgenome.protocols import merge_overrides, read_protocol

    protocol = merge_overrides(read_protocol('eip_sampling', 'fast')[1], {'crack': {'steps': 60}})
    runs = plan_runs(['crack'], 'W', A0, protocol)
    assert [run.variant for run in runs] == ['(010)[001]', '(-110)[001]', '(112)[1-10]', '(-110)[-1-11]']
    ramp = runs[0].parameters['stages'][1]
    assert (ramp['type'], ramp['k_step'], ramp['increments'], ramp['steps']) == ('k_ramp', 0.1, 6, 10)
    atoms, held = runs[1].atoms, runs[1].parameters['frozen']
    final = run_lammps(atoms, eam, {**runs[1].parameters, 'dump_every': 0})['atoms']
    expected = k_field(atoms.positions[:held, :2] - atoms.info['tip'], 0.6, 160.0, 0.28)
    assert np.allclose(final.positions[:held, :2] - atoms.positions[:held, :2], expected, atol=1e-6)


def test_scenario_names_expand_all_and_refuse_unknown_names_but_no_scenario_plans_no_run():
    from aiida_defectgenome.core.lammps.sampling_plan import SCENARIOS, plan_runs, scenario_names
    from aiida_defectgenome.protocols import read_protocol

    assert scenario_names(['all']) == list(SCENARIOS)
    assert scenario_names(['crack', 'loop']) == ['crack', 'loop']
    for bad in ([], ['nope'], ['all', 'crack']):
        with pytest.raises(ValueError, match='give names among'):
            scenario_names(bad)
    assert plan_runs([], 'W', A0, read_protocol('eip_sampling', 'fast')[1]) == []
