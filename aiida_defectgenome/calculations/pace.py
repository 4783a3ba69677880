"""``PaceTrainingCalculation``: fit an ACE potential with pacemaker (``python-ace``) on a labelled extxyz file.

The job runs ``pacemaker input.yaml`` with the given code, then, from the same folder of executables,
``pace_yaml2yace`` (the LAMMPS ``pair_style pace`` file) and ``pace_activeset`` (the active set that
``pair_style pace/extrapolation`` grades against). The training DataFrame and ``input.yaml`` are written
here (:mod:`..core.mlip.pace_files`), so the cluster needs pacemaker only.
"""

from __future__ import annotations

import io
from pathlib import PurePosixPath

import yaml
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..common.validators import elements_validator
from ..core.mlip.pace_files import pacemaker_input, write_pacemaker_dataset
from . import define_training_ports, training_frames

__all__ = ('PaceTrainingCalculation',)

DATA_FILE = 'train.pckl.gzip'
RETRIEVE = [
    'output_potential.yaml',
    'output_potential.yace',
    'output_potential.asi',
    'train_pred.pckl.gzip',
    'test_pred.pckl.gzip',
    'log.txt',
]


_validate_parameters = elements_validator(pacemaker_input)


class PaceTrainingCalculation(CalcJob):
    """Train an ACE potential with pacemaker; outputs like ``SnapTrainingCalculation``'s."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        define_training_ports(
            spec,
            'defectgenome.pace_training',
            _validate_parameters,
            '`elements` and pacemaker settings: cutoff, functions_per_element, maxiter, kappa, test_size, seed.',
        )

    def prepare_for_submission(self, folder):
        values = self.inputs.parameters.get_dict()
        elements = values.pop('elements')
        frames = training_frames(self)
        groups = [str(atoms.info.get('dg_group', 'all')) for atoms, _ in frames]
        write_pacemaker_dataset(frames, folder.get_abs_path(DATA_FILE), groups)
        text = yaml.safe_dump(pacemaker_input(elements, values, DATA_FILE), sort_keys=False)
        folder.create_file_from_filelike(io.StringIO(text), 'input.yaml', mode='w')

        codeinfo = datastructures.CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.cmdline_params = ['input.yaml']
        codeinfo.stdout_name = self.options.output_filename

        tools = PurePosixPath(str(self.inputs.code.get_executable())).parent
        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.append_text = (
            f"'{tools}/pace_yaml2yace' output_potential.yaml -o output_potential.yace\n"
            f"'{tools}/pace_activeset' -d fitting_data_info.pckl.gzip output_potential.yaml\n"
        )
        calcinfo.retrieve_list = [*RETRIEVE, self.options.output_filename]
        return calcinfo
