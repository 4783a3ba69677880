"""Parsers of the package's CalcJobs, and what the ones of its own executables share."""

from pathlib import Path

__all__ = ('missing_output', 'temporary_folder')


def temporary_folder(kwargs) -> Path | None:
    """The folder of a job's ``retrieve_temporary_list`` files that AiiDA gives ``parse``, if any."""
    return Path(kwargs['retrieved_temporary_folder']) if 'retrieved_temporary_folder' in kwargs else None


def missing_output(parser, required: str):
    """Return the ``ERROR_NO_OUTPUT`` exit code with the tail of ``aiida.out`` if ``required`` was not
    retrieved, else ``None``."""
    repository = parser.retrieved.base.repository
    names = repository.list_object_names()
    if required in names:
        return None
    tail = repository.get_object_content('aiida.out')[-500:].strip() if 'aiida.out' in names else 'no output'
    return parser.exit_codes.ERROR_NO_OUTPUT.format(error=tail or 'see the job folder')
