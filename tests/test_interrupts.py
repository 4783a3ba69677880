"""Ctrl-C and dead runners: a command stopped by a signal kills its whole process tree and says so in one
line; processes orphaned by a runner that died are told apart and can be closed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ase.io
import pytest
from aiida import orm
from aiida.common.links import LinkType
from ase.build import bulk

from aiida_defectgenome.common.processes import ACTIVE_STATES


@pytest.fixture
def default_codes(aiida_profile):
    from aiida_defectgenome.tools.environment import ensure_codes, ensure_computer

    ensure_codes(ensure_computer()[0])


def _sphere(path: Path) -> Path:
    """An 8 A sphere of bcc W, every atom marked core (the box runs take seconds each)."""
    atoms = bulk('W', 'bcc', a=3.165, cubic=True) * (6, 6, 6)
    middle = atoms.positions[len(atoms) // 2 + 3]
    atoms = atoms[[i for i, p in enumerate(atoms.positions) if ((p - middle) ** 2).sum() < 8.0**2]]
    atoms.pbc = False
    ase.io.write(path, atoms, format='extxyz')
    return path


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_a_signal_stops_the_whole_process_tree_in_one_line(aiida_config, aiida_profile, default_codes, tmp_path, signum):
    command = [str(Path(sys.executable).parent / 'aiida-defectgenome'), '-p', aiida_profile.name, 'pcc-gcmc']
    command += [_sphere(tmp_path / 'cluster.extxyz'), '--potential', 'eam-zhou-W', '--output', tmp_path / 'cell.extxyz']
    env = {**os.environ, 'AIIDA_PATH': str(Path(aiida_config.dirpath).parent)}
    process = subprocess.Popen([str(c) for c in command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reports = []
    for line in process.stderr:  # its progress reports (a daemon of another test may run LAMMPS in this profile)
        reports.append(line)
        if 'LAMMPS box runs' in line:
            break
    assert 'LAMMPS box runs' in reports[-1], ''.join(reports)
    time.sleep(1)  # the box runs are under way
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    stderr = ''.join(reports) + stderr
    assert process.returncode == 130, stdout + stderr
    assert 'Traceback' not in stdout + stderr
    errors = [line for line in stderr.splitlines() if line.startswith('Error:')]  # the other lines: progress reports
    assert len(errors) == 1 and errors[0].startswith(f'Error: stopped by {signum.name}: PccGcmcWorkChain<'), stderr
    assert stderr.strip().splitlines()[-1] == errors[0]
    top = orm.load_node(int(errors[0].split('PccGcmcWorkChain<')[1].split('>')[0]))
    assert top.is_killed and any(p.process_label == 'LammpsCalculation' for p in top.called_descendants)
    assert not [p for p in top.called_descendants if p.process_state is None or p.process_state.value in ACTIVE_STATES]


def _orphaned_pair():
    """What a daemon worker killed inside a calcfunction leaves: the calcfunction node still "running", its
    caller (which went on with a fresh copy of the step) finished."""
    from plumpy.process_states import ProcessState

    caller = orm.WorkflowNode()
    caller.set_process_label('DefectGenomeWorkChain')
    caller.set_process_state(ProcessState.FINISHED)
    caller.set_exit_status(0)
    caller.store()
    child = orm.CalcFunctionNode()
    child.set_process_label('training_set')
    child.set_process_state(ProcessState.RUNNING)
    child.base.links.add_incoming(caller, LinkType.CALL_CALC, 'training_set')
    child.store()
    caller.seal()
    return caller, child


def test_orphans_are_told_apart_and_closed_with_their_reason(aiida_profile, cli):
    from aiida_defectgenome.tools.campaign import campaign_status

    caller, child = _orphaned_pair()
    status = campaign_status(caller)
    assert status['running'] == [] and [o['pk'] for o in status['orphans']] == [child.pk]
    shown = cli('campaign', 'status', caller.pk)
    assert f'orphaned training_set<{child.pk}> (left running' in shown.output, shown.output
    listed = cli('orphans', caller.pk)
    assert listed.exit_code == 0 and f'training_set<{child.pk}> running, under DefectGenomeWorkChain<{caller.pk}>' in listed.output
    marked = cli('orphans', '--mark')
    assert marked.exit_code == 0 and 'marked excepted' in marked.output, marked.output
    assert child.is_excepted and child.is_sealed and f'DefectGenomeWorkChain<{caller.pk}> ended' in child.exception
    assert cli('orphans').output.strip() == '0 orphaned processes.'
    assert campaign_status(caller)['orphans'] == []


def _daemon_workers(profile_name: str) -> list:
    import psutil

    return [
        p for p in psutil.process_iter(['cmdline'])
        if {'daemon', 'worker'} <= set(p.info['cmdline'] or []) and profile_name in (p.info['cmdline'] or [])
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_worker_killed_mid_calcfunction_leaves_an_orphan_that_is_closed_and_no_box_runs_twice(
    aiida_profile, started_daemon_client, cli, lammps_code, eam_w, tmp_path
):
    """`kill -9` of the daemon worker while it seeds the boxes of a PCC-GCMC cluster (calcfunction
    `seed_pcc_boxes`, seconds): the work chain goes on in a new worker from its last checkpoint, seeds again and
    runs each box once; the killed calcfunction stays `running` under a finished work chain, `orphans` finds it
    and `orphans --mark` closes it."""
    from aiida.engine import submit

    from aiida_defectgenome.common.structures import structure_from_atoms
    from aiida_defectgenome.workflows.pcc_gcmc import PccGcmcWorkChain

    cluster = structure_from_atoms(ase.io.read(_sphere(tmp_path / 'cluster.extxyz')))
    builder = PccGcmcWorkChain.get_builder_from_protocol(
        lammps_code, eam_w, cluster, protocol='fast', overrides={'boxes': 2, 'gcmc_steps': 100}
    )
    node = submit(builder)

    def seeding():
        return [n for n in node.called if n.process_label == 'seed_pcc_boxes']

    deadline = time.time() + 240
    while not [n for n in seeding() if n.process_state and n.process_state.value == 'running']:
        assert time.time() < deadline and not node.is_terminated, 'the seeding was never seen running'
        time.sleep(0.2)
    workers = _daemon_workers(aiida_profile.name)
    assert workers, 'no daemon worker process found'
    for worker in workers:
        worker.kill()
    deadline = time.time() + 420
    while not node.is_terminated:
        assert time.time() < deadline, f'{node.process_label}<{node.pk}> did not finish after the kill'
        time.sleep(2)
    assert node.is_finished_ok, node.exit_message
    killed = [n for n in seeding() if not n.is_terminated]
    assert len(killed) == 1 and killed[0].process_state.value == 'running'
    killed = killed[0]
    assert len([n for n in seeding() if n.is_finished_ok]) == 1  # seeded again once, from the checkpoint
    box_runs = [n for n in node.called if n.process_label == 'LammpsCalculation']
    labels = [n.base.links.get_incoming(link_type=LinkType.CALL_CALC).one().link_label for n in box_runs]
    # each box ran once (the kill came before any was submitted), and the cohesive energy's job before them once
    assert sorted(labels) == ['box_0', 'box_1', 'cohesive_energy']
    assert f'seed_pcc_boxes<{killed.pk}> running' in cli('orphans', node.pk).output
    marked = cli('orphans', '--mark')
    assert marked.exit_code == 0 and killed.is_excepted and f'{node.process_label}<{node.pk}> ended' in killed.exception
