"""Shared pieces of the command line: profile loading and turning known errors into one-line messages."""

from __future__ import annotations

import functools

import click

__all__ = ('load_code_or_fail', 'load_profile_or_fail', 'run_or_fail', 'user_errors')


def load_profile_or_fail(ctx: click.Context):
    """Load the profile named by ``-p/--profile`` (else the default one), or stop with a clear message."""
    from aiida.common.exceptions import ConfigurationError, MissingConfigurationError, ProfileConfigurationError
    from aiida.manage.configuration import load_profile

    name = ctx.find_root().params.get('profile')
    try:
        return load_profile(name, allow_switch=True)
    except (MissingConfigurationError, ProfileConfigurationError, ConfigurationError) as exc:
        hint = f'profile `{name}` does not exist' if name else 'no AiiDA profile is configured'
        raise click.ClickException(f'{hint}: run `aiida-defectgenome setup` first ({type(exc).__name__}).') from exc


def load_code_or_fail(label: str, option: str = 'the code option'):
    """Load code ``label`` (``name@computer``), or stop with a message naming ``option`` to give another."""
    from aiida import orm

    try:
        return orm.load_code(label)
    except Exception as exc:  # noqa: BLE001 - NotExistent or MultipleObjectsError: same advice
        raise click.ClickException(f'no code `{label}`: run `aiida-defectgenome setup` or give {option}') from exc


def user_errors(function):
    """Report the errors that bad input causes as ``Error: <one line>`` with exit status 1."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from ..core.datasets import DatasetError
        from ..core.lammps_runtime import LammpsNotFound
        from ..core.potentials import PotentialError

        try:
            return function(*args, **kwargs)
        except (DatasetError, PotentialError, LammpsNotFound, ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def run_or_fail(builder):
    """Run ``builder`` here and wait; return ``(results, node)``, or stop with its exit message."""
    from ..tools.launch import run_get_node

    results, node = run_get_node(builder)
    if not node.is_finished_ok:
        raise click.ClickException(
            f'{node.process_label}<{node.pk}> failed: {node.exit_message} (see `verdi process report {node.pk}`)'
        )
    return results, node
