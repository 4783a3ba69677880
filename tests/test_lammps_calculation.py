"""LammpsCalculation and LammpsBaseWorkChain with real LAMMPS through aiida.engine.run."""

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.calculations.lammps import LammpsCalculation
from aiida_defectgenome.core.lammps.runtime import potentials_directory
from aiida_defectgenome.data.potential_registry import load_potential, register_potential
from aiida_defectgenome.workflows.lammps_base import LammpsBaseWorkChain

LOST = LammpsCalculation.exit_codes.ERROR_LOST_ATOMS.status

RELAX = {'stages': [{'type': 'minimize', 'box_relax': 'iso', 'ftol': 1e-10}], 'thermo_every': 1}


@pytest.mark.parametrize(
    'potential, a0, e_coh',
    [('eam-zhou-W', 3.1648, -8.760), ('meam-W', 3.165, -8.66)],
)
def test_relaxation_reproduces_lattice_constant_and_cohesive_energy(lammps_inputs, bcc_w, potential, a0, e_coh):
    inputs = lammps_inputs(RELAX, structure=bcc_w(a=3.10), potential=load_potential(potential))
    results, node = run_get_node(LammpsCalculation, **inputs)
    assert node.is_finished_ok, node.exit_message
    out = results['output_parameters'].get_dict()
    assert (2 * out['volume_per_atom']) ** (1 / 3) == pytest.approx(a0, abs=2e-4)
    assert out['energy_per_atom'] == pytest.approx(e_coh, abs=5e-4)
    assert np.abs(out['stress']).max() < 1e-3  # GPa
    assert out['stopping_criteria'] == ['energy tolerance'] or 'force tolerance' in out['stopping_criteria']
    relaxed = results['structure'].get_ase()
    assert relaxed.cell.lengths() == pytest.approx([(2 * out['volume_per_atom']) ** (1 / 3)] * 3, rel=1e-9)
    thermo = results['thermo']
    assert thermo.get_array('pe')[0] > thermo.get_array('pe')[-1]
    assert np.abs(results['per_atom'].get_array('forces')).max() < 1e-6


def test_rotated_cell_gives_the_same_energy_and_a_rotated_stress(lammps_inputs):
    atoms = bulk('W', 'bcc', a=3.165, cubic=True) * (2, 1, 1)
    atoms.set_cell(atoms.cell.array @ np.diag([1.01, 1.0, 0.99]), scale_atoms=True)
    atoms.positions[0] += [0.05, 0.02, -0.03]
    rotated = atoms.copy()
    rotated.rotate(37, 'x', rotate_cell=True)
    rotated.rotate(21, 'z', rotate_cell=True)
    outputs = [run_get_node(LammpsCalculation, **lammps_inputs(structure=orm.StructureData(ase=a)))[0] for a in (atoms, rotated)]
    (plain, turned) = [o['output_parameters'].get_dict() for o in outputs]
    assert turned['energy'] == pytest.approx(plain['energy'], abs=1e-8)
    rotation = np.linalg.solve(atoms.cell.array, rotated.cell.array)  # rows: rotated = atoms @ rotation
    assert np.allclose(rotation.T @ np.array(plain['stress']) @ rotation, turned['stress'], atol=1e-6)
    forces = [o['per_atom'].get_array('forces') for o in outputs]
    assert np.allclose(forces[0] @ rotation, forces[1], atol=1e-7)
    back = outputs[1]['structure'].get_ase()
    assert np.allclose(back.cell.array, rotated.cell.array, atol=1e-10)
    shift = back.get_scaled_positions(wrap=False) - rotated.get_scaled_positions(wrap=False)
    assert np.allclose(shift - np.round(shift), 0.0, atol=1e-9)  # same atoms, possibly wrapped into the cell


def test_md_stage_writes_thermo_for_every_stage(lammps_inputs, bcc_w):
    parameters = {
        'stages': [{'type': 'minimize'}, {'type': 'md', 'temperature': 600.0, 'steps': 50, 'timestep': 0.002}],
        'thermo_every': 10,
    }
    results, node = run_get_node(LammpsCalculation, **lammps_inputs(parameters, structure=bcc_w(repeat=3)))
    assert node.is_finished_ok, node.exit_message
    stage = results['thermo'].get_array('stage')
    assert set(stage) == {0, 1}
    temperature = results['thermo'].get_array('temp')[stage == 1]
    assert temperature[0] == pytest.approx(600.0, rel=1e-6)
    assert results['output_parameters']['kinetic_energy'] > 0


def test_species_missing_from_the_potential_is_refused_before_running(lammps_inputs):
    structure = orm.StructureData(ase=bulk('Mo', 'bcc', a=3.15, cubic=True))
    with pytest.raises(ValueError, match='contains Mo, which potential `eam-zhou-W` does not describe'):
        run_get_node(LammpsCalculation, **lammps_inputs(structure=structure))


def test_bad_parameters_are_refused_before_running(lammps_inputs):
    with pytest.raises(ValueError, match='box_relax'):
        run_get_node(LammpsCalculation, **lammps_inputs({'stages': [{'type': 'minimize', 'box_relax': 'yes'}]}))


def test_missing_potential_file_gives_its_exit_code(lammps_inputs):
    potential, _ = register_potential(
        [potentials_directory() / 'W_zhou.eam.alloy'],
        name='eam-wrong-file',
        species=['W'],
        pair_style='eam/alloy',
        pair_coeff='* * W_missing.eam.alloy {elements}',
        check=False,  # LAMMPS would refuse it at registration; here the run must report it
    )
    _, node = run_get_node(LammpsCalculation, **lammps_inputs(potential=potential))
    assert node.exit_status == LammpsCalculation.exit_codes.ERROR_POTENTIAL_FILE.status
    assert 'W_missing.eam.alloy' in node.exit_message


def test_lammps_error_line_gives_its_exit_code(lammps_inputs):
    potential, _ = register_potential(
        [potentials_directory() / 'W_zhou.eam.alloy'], name='no-such-style', species=['W'], pair_style='nonsense/style', check=False
    )
    _, node = run_get_node(LammpsCalculation, **lammps_inputs(potential=potential))
    assert node.exit_status == LammpsCalculation.exit_codes.ERROR_LAMMPS_RUN.status
    assert 'nonsense/style' in node.exit_message


def _nve(timestep):
    return {'stages': [{'type': 'md', 'ensemble': 'nve', 'steps': 200, 'timestep': timestep}]}


def test_lost_atoms_give_their_exit_code(lammps_inputs, exploding_w):
    _, node = run_get_node(LammpsCalculation, **lammps_inputs(_nve(0.01), structure=exploding_w))
    assert node.exit_status == LammpsCalculation.exit_codes.ERROR_LOST_ATOMS.status
    assert 'Lost atoms' in node.exit_message


def test_restart_workchain_halves_the_timestep_until_no_atom_is_lost(lammps_inputs, exploding_w):
    builder = LammpsBaseWorkChain.get_builder()
    builder.lammps = lammps_inputs(_nve(0.01), structure=exploding_w)
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    calls = sorted(node.called, key=lambda n: n.ctime)
    assert [c.exit_status for c in calls] == [LOST, LOST, 0]
    assert calls[-1].inputs.parameters['stages'][0]['timestep'] == pytest.approx(0.0025)


@pytest.mark.slow  # half a minute: in the default run, the other tests cover it in part
def test_restart_workchain_continues_an_unconverged_minimisation(lammps_inputs, bcc_w):
    builder = LammpsBaseWorkChain.get_builder()
    parameters = {'stages': [{'type': 'minimize', 'box_relax': 'iso', 'ftol': 1e-10, 'maxiter': 3}]}
    builder.lammps = lammps_inputs(parameters, structure=bcc_w(a=3.0))
    builder.max_iterations = orm.Int(20)
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    calls = sorted(node.called, key=lambda n: n.ctime)
    assert len(calls) > 1 and calls[0].exit_status == LammpsCalculation.exit_codes.ERROR_MINIMIZATION_NOT_CONVERGED.status
    assert calls[1].inputs.structure.uuid == calls[0].outputs.structure.uuid
    assert results['output_parameters']['energy_per_atom'] == pytest.approx(-8.760, abs=5e-4)


def test_mpi_run_through_the_computer_mpirun(lammps_inputs, bcc_w, mpi_localhost):
    inputs = lammps_inputs(RELAX, structure=bcc_w(a=3.2, repeat=4))
    inputs['metadata'] = {'options': {'withmpi': True, 'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 2}}}
    results, node = run_get_node(LammpsCalculation, **inputs)
    assert node.is_finished_ok, node.exit_message
    assert 'with 2 MPI tasks' in node.outputs.retrieved.base.repository.get_object_content('log.lammps')
    assert results['output_parameters']['energy_per_atom'] == pytest.approx(-8.760, abs=5e-4)


def test_a_run_that_keeps_its_atoms_on_the_computer_retrieves_only_totals(lammps_inputs, bcc_w):
    from pathlib import Path

    from aiida_defectgenome.core.lammps import inputs as lammps_input

    parameters = {**RELAX, 'retrieve_atoms': False}
    results, node = run_get_node(LammpsCalculation, **lammps_inputs(parameters, structure=bcc_w(a=3.2, repeat=3)))
    assert node.is_finished_ok, node.exit_message
    assert results['output_parameters']['energy_per_atom'] == pytest.approx(-8.760, abs=5e-4)
    assert 'structure' not in results and 'per_atom' not in results
    retrieved = node.outputs.retrieved.base.repository.list_object_names()
    assert lammps_input.FINAL_DUMP not in retrieved and lammps_input.FINAL_JSON in retrieved
    assert (Path(node.outputs.remote_folder.get_remote_path()) / lammps_input.FINAL_DUMP).is_file()  # left where it ran
    # LAMMPS writes its log once: no copy of it in the job's stdout
    assert 'Loop time' not in node.outputs.retrieved.base.repository.get_object_content('aiida.out')
