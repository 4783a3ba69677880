"""CalcJobs of the package, and what the ones that run this package's own executables share."""

import tempfile
from pathlib import Path

from aiida import orm
from aiida.common import datastructures

from ..core.structures.datasets import read_configurations

__all__ = (
    'SINGLE_THREADED',
    'define_training_ports',
    'potential_folder',
    'python_module_codeinfo',
    'serial_job_defaults',
    'single_threaded',
    'training_frames',
)

#: Environment of every job of the package unless ``metadata.options.environment_variables`` says otherwise:
#: one OpenMP/BLAS thread per process, parallel through MPI only, so that the jobs that run at once on a
#: machine (``workflows.jobs_at_once``: its cores) do not each start a thread per core as well.
SINGLE_THREADED = {'OMP_NUM_THREADS': '1', 'OPENBLAS_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}


def single_threaded(spec) -> None:
    """Make :data:`SINGLE_THREADED` the default ``environment_variables`` of the CalcJob ``spec``."""
    spec.inputs['metadata']['options']['environment_variables'].default = lambda: dict(SINGLE_THREADED)


def python_module_codeinfo(calcjob, module: str) -> datastructures.CodeInfo:
    """Return the ``CodeInfo`` that runs ``python -m <module>`` with ``calcjob``'s code (a Python), its stderr
    joined to its stdout: a job that fails says why in ``aiida.out``, where ``parsers.missing_output`` reads it."""
    codeinfo = datastructures.CodeInfo()
    codeinfo.code_uuid = calcjob.inputs.code.uuid
    codeinfo.cmdline_params = ['-m', module]
    codeinfo.stdout_name = calcjob.options.output_filename
    codeinfo.join_files = True
    return codeinfo


def potential_folder(folder, potential) -> list:
    """Write ``potential/potential.json`` (what :func:`..core.mlip.potential_evaluation.read_potential_directory`
    reads on the computer) into the job's ``folder``; return the ``local_copy_list`` of the potential's files."""
    import io
    import json

    from ..core.mlip.potential_evaluation import POTENTIAL_FILE, potential_description

    description = io.StringIO(json.dumps(potential_description(potential)))
    folder.get_subfolder('potential', create=True).create_file_from_filelike(description, POTENTIAL_FILE, mode='w')
    return [(potential.uuid, name, f'potential/{name}') for name in potential.filenames]


def serial_job_defaults(spec, parser_name: str) -> None:
    """One process on one machine, no MPI, stdout in ``aiida.out``, parsed by ``parser_name``."""
    options = spec.inputs['metadata']['options']
    options['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
    options['withmpi'].default = False
    options['parser_name'].default = parser_name
    options['output_filename'].default = 'aiida.out'
    single_threaded(spec)


def define_training_ports(spec, parser_name: str, validator, parameters_help: str) -> None:
    """The ports every MLIP training job shares: the labelled frames and settings in; the potential,
    metrics and parity plot out; exit codes 300 (no output) and 301 (unreadable output)."""
    spec.input('training_set', valid_type=orm.SinglefileData, help='Labelled frames; `info["dg_group"]` names groups.')
    spec.input('parameters', valid_type=orm.Dict, validator=validator, help=parameters_help)
    serial_job_defaults(spec, parser_name)
    spec.output('potential', valid_type=orm.Data, help='The trained potential, ready for LAMMPS.')
    spec.output('metrics', valid_type=orm.Dict, help='Energy (meV/atom) and force (meV/A) RMSE/MAE per split.')
    spec.output('parity_plot', valid_type=orm.SinglefileData, help='Energy and force parity plots (PNG).')
    spec.default_output_node = 'metrics'
    spec.exit_code(300, 'ERROR_NO_OUTPUT', message='The training wrote no potential or metrics: {error}')
    spec.exit_code(301, 'ERROR_READING_OUTPUT', message='The training output could not be read: {error}')


def training_frames(calcjob) -> list:
    """Return the ``(atoms, labels)`` frames of a training job's ``training_set`` (read as extxyz)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / 'training.extxyz'
        source.write_bytes(calcjob.inputs.training_set.get_content(mode='rb'))
        return read_configurations(source)
