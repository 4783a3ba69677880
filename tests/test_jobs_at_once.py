"""How many jobs a workflow runs at once (``workflows.jobs_at_once``): the cores of a computer without a queue."""

import os

from aiida import orm

from aiida_defectgenome.workflows import QUEUED_JOBS_AT_ONCE, jobs_at_once


def test_localhost_runs_as_many_jobs_as_cores_and_a_queue_many_more(aiida_localhost, aiida_computer):
    code = orm.InstalledCode(computer=aiida_localhost, filepath_executable='/bin/true').store()
    cores = os.cpu_count() or 1
    assert jobs_at_once(code) == cores
    assert jobs_at_once(code, per_item=4) == max(1, cores // 4)  # e.g. a cluster's four PCC-GCMC boxes
    assert jobs_at_once(code, orm.Int(7)) == 7  # asked for: what the user says
    remote = aiida_computer(label='remote-direct', hostname='node1', transport_type='core.ssh_async')
    remote.set_default_mpiprocs_per_machine(16)
    assert jobs_at_once(orm.InstalledCode(computer=remote, filepath_executable='/bin/true').store()) == 16
    cluster = aiida_computer(label='remote-slurm', hostname='login1', scheduler_type='core.slurm')
    assert jobs_at_once(orm.InstalledCode(computer=cluster, filepath_executable='/bin/true').store()) == QUEUED_JOBS_AT_ONCE
