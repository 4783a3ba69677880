"""What the parsers make of a job the scheduler stopped, and every process handler of the base work chains,
on fake finished calculations (a real walltime kill through SLURM: ``tests/test_slurm.py``)."""

import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import CalcJob
from aiida.engine.utils import instantiate_process
from aiida.manage import get_manager
from aiida.plugins import ParserFactory
from ase.build import bulk
from plumpy import ProcessState

from aiida_defectgenome.calculations.gpaw import GpawCalculation
from aiida_defectgenome.calculations.lammps import LammpsCalculation
from aiida_defectgenome.workflows.gpaw_base import GpawBaseWorkChain
from aiida_defectgenome.workflows.lammps_base import LammpsBaseWorkChain

WALLTIME = CalcJob.exit_codes.ERROR_SCHEDULER_OUT_OF_WALLTIME
UNCONVERGED = LammpsCalculation.exit_codes.ERROR_MINIMIZATION_NOT_CONVERGED.status
OUT_OF_TIME = 'CANCELLED AT 2026-12-06T12:00:00 DUE TO TIME LIMIT'


def finished_job(computer, entry_point, exit_status, retrieved=None, outputs=None, walltime=600):
    """A stored, finished ``CalcJobNode`` of ``entry_point`` with ``exit_status``, its ``retrieved`` files
    ({name: text}) and outputs ({label: node})."""
    node = orm.CalcJobNode(computer=computer, process_type=f'aiida.calculations:{entry_point}')
    node.set_option('resources', {'num_machines': 1, 'num_mpiprocs_per_machine': 1})
    node.set_option('max_wallclock_seconds', walltime)
    node.set_process_state(ProcessState.FINISHED)
    node.set_exit_status(exit_status)
    node.set_exit_message(OUT_OF_TIME if exit_status == WALLTIME.status else f'exit {exit_status}')
    node.store()
    folder = orm.FolderData()
    for name, text in (retrieved or {}).items():
        folder.base.repository.put_object_from_bytes(text.encode(), name)
    items = {'retrieved': folder, **(outputs or {})}
    for label, output in items.items():
        output.base.links.add_incoming(node, LinkType.CREATE, label)
        output.store()
    return node


@pytest.mark.parametrize(
    ('entry_point', 'retrieved', 'own_code'),
    [
        ('defectgenome.gpaw', {'aiida.out': 'SCF iteration 3\n'}, 300),  # no results.json
        ('defectgenome.lammps', {'log.lammps': 'LAMMPS (29 Aug 2024)\nStep PotEng\n0 -17.5\n'}, 302),  # no final
        ('defectgenome.lammps', {}, 301),  # no log at all: killed before it started
        ('defectgenome.snap_training', {'aiida.out': 'fitting\n'}, 300),  # no metrics.json
        ('defectgenome.mtp_grade', {'aiida.out': 'MTPR from trained.almtp\n'}, 300),  # no graded.cfg
    ],
)
def test_a_job_stopped_by_the_scheduler_keeps_the_schedulers_exit_code(aiida_localhost, entry_point, retrieved, own_code):
    parser = ParserFactory(entry_point)
    killed = finished_job(aiida_localhost, entry_point, WALLTIME.status, retrieved)
    exit_code = parser(killed).parse()
    assert exit_code.status == WALLTIME.status and 'TIME LIMIT' in exit_code.message
    # the same files from a job the scheduler did not stop: the parser's own code
    exit_code = parser(finished_job(aiida_localhost, entry_point, 0, retrieved)).parse()
    assert exit_code.status == own_code


def inspected(process_class, namespace, inputs, child):
    """Instantiate ``process_class`` on ``inputs``, set it up, inspect ``child`` as its first calculation;
    return the process and what ``inspect_process`` returned."""
    process = instantiate_process(get_manager().get_runner(), process_class, **{namespace: inputs})
    process.setup()
    process.ctx.iteration = 1
    process.ctx.children = [child]
    return process, process.inspect_process()


def restarts(result) -> bool:
    """``inspect_process`` asks for another run: a handler's report with exit status 0."""
    return result is not None and result.status == 0


def reports(process):
    return [log.message for log in orm.Log.collection.get_logs_for(process.node)]


@pytest.fixture
def gpaw_inputs(gpaw_code):
    return {
        'code': gpaw_code,
        'structure': orm.StructureData(ase=bulk('W', 'bcc', a=3.18)),
        'parameters': orm.Dict({'mixer': {'beta': 0.05}, 'maxiter': 50}),
        'metadata': {'options': {'max_wallclock_seconds': 600}},
    }


def test_gpaw_out_of_walltime_runs_again_with_twice_the_time(aiida_localhost, gpaw_inputs):
    process, result = inspected(GpawBaseWorkChain, 'gpaw', gpaw_inputs, finished_job(aiida_localhost, 'defectgenome.gpaw', 120))
    assert restarts(result)
    assert process.ctx.inputs.metadata['options']['max_wallclock_seconds'] == 1200
    assert any('ran out of walltime; retrying with 1200 s' in line for line in reports(process))


def test_gpaw_unconverged_scf_damps_the_mixing_then_widens_the_smearing(aiida_localhost, gpaw_inputs):
    child = finished_job(aiida_localhost, 'defectgenome.gpaw', GpawCalculation.exit_codes.ERROR_SCF_NOT_CONVERGED.status)
    process, result = inspected(GpawBaseWorkChain, 'gpaw', gpaw_inputs, child)
    parameters = process.ctx.inputs.parameters.get_dict()
    assert restarts(result) and parameters['mixer']['beta'] == pytest.approx(0.025) and parameters['maxiter'] == 100
    gpaw_inputs['parameters'] = orm.Dict({'mixer': {'beta': 0.015}, 'smearing': {'name': 'fermi-dirac', 'width': 0.1}})
    process, result = inspected(GpawBaseWorkChain, 'gpaw', gpaw_inputs, child)
    parameters = process.ctx.inputs.parameters.get_dict()
    assert parameters['mixer']['beta'] == pytest.approx(0.015) and parameters['smearing']['width'] == pytest.approx(0.2)
    assert any('labels differ from the protocol' in line for line in reports(process))


MD = {'stages': [{'type': 'md', 'ensemble': 'nve', 'steps': 100, 'timestep': 0.002}]}
MINIMISE = {'stages': [{'type': 'minimize', 'maxiter': 3}]}


def test_lammps_out_of_walltime_runs_again_with_twice_the_time(aiida_localhost, lammps_inputs):
    inputs = {**lammps_inputs(MD), 'metadata': {'options': {'max_wallclock_seconds': 300}}}
    child = finished_job(aiida_localhost, 'defectgenome.lammps', 120, walltime=300)
    process, result = inspected(LammpsBaseWorkChain, 'lammps', inputs, child)
    assert restarts(result) and process.ctx.inputs.metadata['options']['max_wallclock_seconds'] == 600


def test_lammps_lost_atoms_halve_the_md_timestep_and_give_up_at_the_floor(aiida_localhost, lammps_inputs):
    child = finished_job(aiida_localhost, 'defectgenome.lammps', LammpsCalculation.exit_codes.ERROR_LOST_ATOMS.status)
    process, result = inspected(LammpsBaseWorkChain, 'lammps', lammps_inputs(MD), child)
    assert restarts(result) and process.ctx.inputs.parameters['stages'][0]['timestep'] == pytest.approx(0.001)
    floor = {'stages': [{**MD['stages'][0], 'timestep': 1.5e-4}]}
    process, result = inspected(LammpsBaseWorkChain, 'lammps', lammps_inputs(floor), child)
    assert result == LammpsBaseWorkChain.exit_codes.ERROR_TIMESTEP_TOO_SMALL
    # a minimisation that loses atoms is not the timestep's fault: no handler takes it
    process, result = inspected(LammpsBaseWorkChain, 'lammps', lammps_inputs(MINIMISE), child)
    assert result == LammpsBaseWorkChain.exit_codes.ERROR_UNHANDLED_FAILURE
    assert any('lost atoms in a minimisation' in line for line in reports(process))
    assert process.ctx.inputs.parameters['stages'] == MINIMISE['stages']


def test_lammps_unconverged_minimisation_continues_from_where_it_stopped(aiida_localhost, lammps_inputs, bcc_w):
    stopped = bcc_w(a=3.17)
    outputs = {'structure': stopped, 'output_parameters': orm.Dict({'energy_per_atom': -8.75})}
    child = finished_job(aiida_localhost, 'defectgenome.lammps', UNCONVERGED, outputs=outputs)
    process, result = inspected(LammpsBaseWorkChain, 'lammps', lammps_inputs(MINIMISE), child)
    assert restarts(result) and process.ctx.inputs.structure.uuid == stopped.uuid
    assert any('continuing from its final structure' in line for line in reports(process))
    # with MD in the run, starting again from the end would repeat the MD: not handled here
    process, result = inspected(LammpsBaseWorkChain, 'lammps', lammps_inputs(MD), child)
    assert result == LammpsBaseWorkChain.exit_codes.ERROR_UNHANDLED_FAILURE
    assert process.ctx.inputs.structure.uuid != stopped.uuid
