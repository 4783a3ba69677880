"""The production setup: a core.psql_dos profile on PostgreSQL with RabbitMQ and the daemon.

Needs PostgreSQL on 127.0.0.1:5432 (a role allowed to create databases, default `postgres`) and RabbitMQ on
127.0.0.1:5672 (guest/guest). Without them, deselect with ``-m 'not services'``.
"""

import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .imports_at_once import import_twice_at_once, shifted_dataset
from .test_extras import extras_lost_by_writers_at_once

pytestmark = [pytest.mark.services, pytest.mark.slow]

SUBMIT = textwrap.dedent(
    """
    import sys, time
    from aiida import load_profile, orm
    from aiida.engine import submit
    from ase.build import bulk
    load_profile(sys.argv[1])
    from aiida_defectgenome.calculations.lammps import LammpsCalculation
    from aiida_defectgenome.data.potential_registry import load_potential
    node = submit(LammpsCalculation, code=orm.load_code('lammps@localhost'), potential=load_potential('eam-zhou-W'),
                  structure=orm.StructureData(ase=bulk('W', 'bcc', a=3.2, cubic=True)),
                  parameters=orm.Dict({'stages': [{'type': 'minimize', 'box_relax': 'iso', 'ftol': 1e-10}]}))
    deadline = time.time() + 240
    while not node.is_terminated and time.time() < deadline:
        time.sleep(1)
    print(node.pk, node.process_state, node.exit_status, node.outputs.output_parameters['energy_per_atom'])
    """
)


def _roles(prefix):
    import psycopg

    with psycopg.connect(host='127.0.0.1', port=5432, user='postgres', dbname='postgres') as conn:
        return [r[0] for r in conn.execute('SELECT rolname FROM pg_roles WHERE rolname LIKE %s', (f'{prefix}%',))]


def _drop_role(role):
    import psycopg
    from psycopg import sql

    with psycopg.connect(host='127.0.0.1', port=5432, user='postgres', dbname='postgres', autocommit=True) as conn:
        conn.execute(sql.SQL('DROP ROLE IF EXISTS {}').format(sql.Identifier(role)))


def test_failed_database_creation_leaves_no_role_behind(aiida_profile):
    from aiida_defectgenome.tools.environment import create_postgres_database

    profile = f'dg-fail-{secrets.token_hex(4)}'
    with pytest.raises(ValueError, match='already exists'):
        create_postgres_database(profile, '127.0.0.1', 5432, 'postgres', None, 'postgres')
    assert _roles(f'aiida-{profile}') == []


def _run(args, env, check=True):
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    if check and result.returncode:
        raise AssertionError(f'{" ".join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}')
    return result


def test_postgres_rabbitmq_profile_runs_lammps_through_the_daemon(tmp_path):
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, 'AIIDA_PATH': str(tmp_path), 'PATH': f'{bin_dir}{os.pathsep}{os.environ["PATH"]}'}
    profile = f'dg-prod-{secrets.token_hex(4)}'
    cli, verdi = str(bin_dir / 'aiida-defectgenome'), str(bin_dir / 'verdi')
    setup = _run([cli, '-p', profile, 'setup', '--postgres', '127.0.0.1:5432', '--rabbitmq', '127.0.0.1:5672'], env)
    assert 'storage core.psql_dos, broker core.rabbitmq' in setup.stdout
    try:
        _run([verdi, '-p', profile, 'daemon', 'start'], env)
        out = _run([sys.executable, '-c', SUBMIT, profile], env).stdout.split()
        assert out[1:3] == ['ProcessState.FINISHED', '0'], out
        assert float(out[3]) == pytest.approx(-8.760, abs=5e-4)
        # two imports of one file at once: PostgreSQL's advisory lock lets one writer find what the other stored
        dataset = shifted_dataset(tmp_path / 'shifted.extxyz', count=120, shift=0.0321)
        assert import_twice_at_once(profile, dataset, ['at-once-0', 'at-once-1'], env) == [(0, 120), (120, 0)]
        assert extras_lost_by_writers_at_once(profile, env) == []  # jsonb || merges key by key
        again = _run([cli, '-p', profile, 'setup'], env)
        assert 'Nothing to do' in again.stdout
    finally:
        _run([verdi, '-p', profile, 'daemon', 'stop'], env, check=False)
        _run([verdi, 'profile', 'delete', '--delete-data', '--force', profile], env, check=False)
        _drop_role(f'aiida-{profile}')  # `verdi profile delete` drops the database, not the role
