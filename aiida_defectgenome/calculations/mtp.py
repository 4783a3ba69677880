"""``MtpTrainingCalculation``: fit a moment tensor potential with MLIP-3 (``mlp``) on a labelled extxyz file.

The job writes ``train.cfg`` and ``test.cfg`` (a random split, :mod:`..core.mlip.mtp_files`), then runs with
the given ``mlp`` code: ``mlp train`` (from the level template ``MTP_templates/NN.almtp`` next to the
code's ``bin/``, or from ``template`` or a previous ``initial_potential``), and ``mlp calculate_efs`` of
the trained potential on both sets, which the parser scores. The cluster needs MLIP-3 only.
"""

from __future__ import annotations

import io
from pathlib import PurePosixPath

from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..common.validators import elements_validator
from ..core.mlip.mlip_cfg import write_cfg
from ..core.mlip.mtp_files import mlp_train_arguments, split_indices, validate_mtp_settings
from . import define_training_ports, training_frames

__all__ = ('MtpTrainingCalculation',)

TRAINED = 'trained.almtp'
#: ``calculate_efs`` outputs: an MPI build of mlp appends the rank (``.0``), a serial one does not.
PREDICTIONS = {'train': 'train_efs.cfg', 'test': 'test_efs.cfg'}


_validate_parameters = elements_validator(lambda _, settings: validate_mtp_settings(settings))


class MtpTrainingCalculation(CalcJob):
    """Train an MTP with MLIP-3; outputs like ``SnapTrainingCalculation``'s, the potential for ``pair_style mlip``."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        define_training_ports(
            spec,
            'defectgenome.mtp_training',
            _validate_parameters,
            '`elements` and MTP settings (core.mlip.mtp_files.MTP_DEFAULTS): level, iteration_limit, al_mode, weights, '
            'test_fraction, seed.',
        )
        spec.input('template', valid_type=orm.SinglefileData, required=False, help='Untrained MTP (.almtp) to start from.')
        spec.input(
            'initial_potential',
            valid_type=orm.SinglefileData,
            required=False,
            help='A trained .almtp to train further (its active set is kept); wins over `template`.',
        )
        spec.exit_code(302, 'ERROR_MLP', message='mlp stopped: {error}')

    def prepare_for_submission(self, folder):
        values = self.inputs.parameters.get_dict()
        elements = values.pop('elements')
        settings = validate_mtp_settings(values)
        frames = training_frames(self)
        train, test = split_indices(len(frames), settings['test_fraction'], settings['seed'])
        for name, indices in (('train', train), ('test', test)):
            chosen = [frames[i] for i in indices]
            write_cfg(chosen, folder.get_abs_path(f'{name}.cfg'), elements, [{'index': int(i)} for i in indices])

        initial = self.inputs.get('initial_potential') or self.inputs.get('template')
        if initial is not None:
            folder.create_file_from_filelike(io.BytesIO(initial.get_content(mode='rb')), 'initial.almtp', mode='wb')
            start = 'initial.almtp'
        else:
            bin_folder = PurePosixPath(str(self.inputs.code.get_executable())).parent
            start = str(bin_folder.parent / 'MTP_templates' / f'{settings["level"]:02d}.almtp')
        codes = [self._codeinfo(mlp_train_arguments(settings, start, TRAINED), 'train')]
        for name in ('train', 'test') if len(test) else ('train',):
            arguments = ['calculate_efs', TRAINED, f'{name}.cfg', f'--output_filename={PREDICTIONS[name]}']
            codes.append(self._codeinfo(arguments, f'efs_{name}'))

        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = codes
        calcinfo.retrieve_list = [TRAINED, self.options.output_filename, '*.err', 'efs_*.out']
        calcinfo.retrieve_temporary_list = ['train.cfg', 'test.cfg', 'train_efs.cfg*', 'test_efs.cfg*']
        return calcinfo

    def _codeinfo(self, arguments: list[str], name: str) -> datastructures.CodeInfo:
        codeinfo = datastructures.CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.cmdline_params = arguments
        codeinfo.stdout_name = self.options.output_filename if name == 'train' else f'{name}.out'
        codeinfo.stderr_name = f'{name}.err'
        return codeinfo
