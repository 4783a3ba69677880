"""CalcJobs of the package, and what the ones that run this package's own executables share."""

from aiida.common import datastructures

__all__ = ('python_module_codeinfo',)


def python_module_codeinfo(calcjob, module: str) -> datastructures.CodeInfo:
    """Return the ``CodeInfo`` that runs ``python -m <module>`` with ``calcjob``'s code (a Python)."""
    codeinfo = datastructures.CodeInfo()
    codeinfo.code_uuid = calcjob.inputs.code.uuid
    codeinfo.cmdline_params = ['-m', module]
    codeinfo.stdout_name = calcjob.options.output_filename
    return codeinfo
