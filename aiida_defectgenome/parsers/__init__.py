"""Parsers of the package's CalcJobs, and what the ones of its own executables share."""

from pathlib import Path

from aiida.engine import ExitCode

__all__ = ('missing_output', 'scheduler_error', 'temporary_folder')


def scheduler_error(parser) -> ExitCode | None:
    """The error the scheduler reported for the job (110 out of memory, 120 out of walltime, ...), or ``None``.

    AiiDA sets it on the node before the parser runs; a parser whose results are missing returns it rather
    than its own "no output" code, so that a base work chain's handler sees why the job stopped."""
    status = parser.node.exit_status
    return ExitCode(status, parser.node.exit_message or '') if status else None


def temporary_folder(kwargs) -> Path | None:
    """The folder of a job's ``retrieve_temporary_list`` files that AiiDA gives ``parse``, if any."""
    return Path(kwargs['retrieved_temporary_folder']) if 'retrieved_temporary_folder' in kwargs else None


def missing_output(parser, required: str):
    """Return, if ``required`` was not retrieved, the scheduler's error or else the ``ERROR_NO_OUTPUT`` exit
    code with the tail of ``aiida.out``; ``None`` if it was."""
    repository = parser.retrieved.base.repository
    names = repository.list_object_names()
    if required in names:
        return None
    if verdict := scheduler_error(parser):
        return verdict
    tail = repository.get_object_content('aiida.out')[-500:].strip() if 'aiida.out' in names else 'no output'
    return parser.exit_codes.ERROR_NO_OUTPUT.format(error=tail or 'see the job folder')
