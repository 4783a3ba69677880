"""``GpawCalculation``: one GPAW plane-wave single point (energy, forces, stress) of a structure.

The run is :mod:`..core.jobs.gpaw_single_point`, copied next to the inputs and started with the code (GPAW's
``gpaw`` command) as ``gpaw python dg_gpaw.py``; with ``metadata.options.withmpi`` AiiDA puts the
computer's ``mpirun -np N`` in front. Only GPAW, ASE and NumPy are needed on the computer.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..common.validators import dict_validator
from ..core.jobs import gpaw_single_point
from . import single_threaded

__all__ = ('GpawCalculation',)

SCRIPT = 'dg_gpaw.py'


class GpawCalculation(CalcJob):
    """Run GPAW (PW mode) on a structure; see :mod:`..core.jobs.gpaw_single_point` for parameters and results."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('structure', valid_type=orm.StructureData, help='The configuration to label.')
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            required=False,
            validator=dict_validator(gpaw_single_point.merged_parameters, 'invalid GPAW parameters: ', (ValueError, TypeError)),
            help='ecut (eV), xc, kpoint_spacing (2 pi/A), smearing, mixer, convergence, maxiter, setups.',
        )
        spec.inputs['metadata']['options']['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
        spec.inputs['metadata']['options']['withmpi'].default = False
        # one BLAS/OpenMP thread per process, as GPAW's docs advise (parallel through MPI): a 2-atom W cell took
        # 25 s per single point with OpenBLAS's default threads on 2 cores, 6.4 s with one
        single_threaded(spec)
        spec.inputs['metadata']['options']['parser_name'].default = 'defectgenome.gpaw'
        spec.inputs['metadata']['options']['output_filename'].default = 'aiida.out'

        spec.output('output_parameters', valid_type=orm.Dict, help='Energies (eV), stress (eV/A^3), k-points, timing.')
        spec.output('labels', valid_type=orm.ArrayData, help='The labels table (one row): energy, forces, stress.')
        spec.default_output_node = 'output_parameters'

        spec.exit_code(300, 'ERROR_NO_RESULTS', message='GPAW wrote no results file: it did not start or was killed.')
        spec.exit_code(301, 'ERROR_READING_RESULTS', message='The results file could not be read: {error}')
        spec.exit_code(410, 'ERROR_SCF_NOT_CONVERGED', message='{error}')
        spec.exit_code(320, 'ERROR_GPAW', message='GPAW failed: {error}')

    def prepare_for_submission(self, folder):
        parameters = self.inputs.parameters.get_dict() if 'parameters' in self.inputs else {}
        atoms = self.inputs.structure.get_ase()
        buffer = io.StringIO()
        atoms.write(buffer, format='extxyz')
        folder.create_file_from_filelike(io.StringIO(buffer.getvalue()), gpaw_single_point.STRUCTURE_FILE, mode='w')
        folder.create_file_from_filelike(io.StringIO(json.dumps(parameters)), gpaw_single_point.PARAMETERS_FILE, mode='w')
        folder.create_file_from_filelike(io.StringIO(Path(gpaw_single_point.__file__).read_text()), SCRIPT, mode='w')

        codeinfo = datastructures.CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.cmdline_params = ['python', SCRIPT]
        codeinfo.stdout_name = self.options.output_filename

        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.retrieve_list = [gpaw_single_point.RESULTS_FILE, gpaw_single_point.LOG_FILE, self.options.output_filename]
        return calcinfo
