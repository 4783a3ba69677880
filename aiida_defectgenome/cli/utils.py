"""Shared pieces of the command line: profile loading and turning known errors into one-line messages."""

from __future__ import annotations

import functools
from pathlib import Path

import click

__all__ = ('OUTPUT_FILE', 'load_code_or_fail', 'load_node_or_fail', 'load_profile_or_fail', 'run_or_fail', 'user_errors')


class OutputFile(click.Path):
    """A file to write: refused at once if it is a folder, or if it (or, when new, its folder) cannot be
    written, so that no command works for minutes before it finds out."""

    name = 'output file'

    def __init__(self):
        super().__init__(dir_okay=False, writable=True)

    def convert(self, value, param, ctx):
        path = Path(super().convert(value, param, ctx))
        folder = path.absolute().parent
        if not folder.is_dir():
            self.fail(f'cannot create {value}: no folder {folder}', param, ctx)
        if not path.exists():
            try:  # the only sure test (root passes every access check, yet cannot write in /proc)
                path.touch(exist_ok=False)
                path.unlink()
            except OSError as exc:
                self.fail(f'cannot create {value}: {exc.strerror}', param, ctx)
        return str(path)


OUTPUT_FILE = OutputFile()


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


def load_node_or_fail(pk: int, kind, what: str):
    """Load node ``pk``, or stop with a message if there is none or it is not a ``kind`` (named ``what``)."""
    from aiida import orm

    try:
        node = orm.load_node(pk)
    except Exception as exc:  # noqa: BLE001 - NotExistent or MultipleObjectsError: same advice
        raise click.ClickException(f'no node {pk}: {exc}') from exc
    if not isinstance(node, kind):
        raise click.ClickException(f'node {pk} is a {node.__class__.__name__}, not {what}')
    return node


def user_errors(function):
    """Report the errors that bad input causes as ``Error: <one line>`` with exit status 1."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from sqlalchemy.exc import OperationalError

        from ..common.storage import ONE_WRITER, is_locked
        from ..core.lammps.potentials import PotentialError
        from ..core.lammps.runtime import LammpsNotFound
        from ..core.structures.datasets import DatasetError
        from ..tools.launch import Interrupted

        try:
            return function(*args, **kwargs)
        except (DatasetError, PotentialError, LammpsNotFound, ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from exc
        except Interrupted as exc:
            error = click.ClickException(str(exc))
            error.exit_code = 130  # as a shell reports a command stopped by Ctrl-C
            raise error from exc
        except OperationalError as exc:
            if not is_locked(exc):
                raise
            raise click.ClickException(f'the SQLite profile is locked by another writer: {ONE_WRITER}') from exc

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
