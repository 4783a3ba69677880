"""MLIP-3 jobs around a trained MTP's active set: grade configurations (and cut their most extrapolative
neighbourhoods), and select configurations to add to a training set.

``MtpGradeCalculation`` runs ``mlp calculate_grade`` and, with ``cut_radius``, ``mlp cut_extrapolative_nbh``
(spheres of that radius around the most extrapolative atom of every configuration graded at least 1.1);
``MtpSelectCalculation`` runs ``mlp select_add``. The potential is an ``InteratomicPotentialData`` from
``MtpTrainingCalculation`` (its ``.almtp`` holds the active set).
"""

from __future__ import annotations

import io
from pathlib import PurePosixPath

from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..common.validators import elements_validator
from ..core.mlip.mlip_cfg import write_cfg
from ..core.structures.datasets import read_configurations, read_structures
from ..data.potential import InteratomicPotentialData
from . import serial_job_defaults

__all__ = ('MtpGradeCalculation', 'MtpSelectCalculation')

POTENTIAL = 'potential.almtp'


def _check_settings(_, settings: dict) -> None:
    """Raise ``ValueError`` for settings other than ``cut_radius`` (A, positive)."""
    unknown = set(settings) - {'cut_radius'}
    if unknown:
        raise ValueError(f'unknown parameters {", ".join(sorted(unknown))}: give elements (and cut_radius, A, to grade)')
    radius = settings.get('cut_radius')
    if radius is not None and (not isinstance(radius, (int, float)) or isinstance(radius, bool) or radius <= 0):
        raise ValueError(f'cut_radius must be a positive number of A, got {radius!r}')


def validate_mtp_potential(potential, _):
    """Port validator: ``potential`` must be an MTP (``pair_style mlip`` with an ``.almtp`` file)."""
    if not potential.pair_style.startswith('mlip') or not potential.filenames[0].endswith('.almtp'):
        return f'potential `{potential.name}` is not an MTP (pair_style mlip with an .almtp file)'


def _define_common(spec, parser_name: str) -> None:
    spec.input('potential', valid_type=InteratomicPotentialData, validator=validate_mtp_potential, help='A trained MTP.')
    spec.input(
        'parameters', valid_type=orm.Dict, validator=elements_validator(_check_settings), help='`elements`; `cut_radius` (A).'
    )
    serial_job_defaults(spec, parser_name)
    spec.exit_code(300, 'ERROR_NO_OUTPUT', message='mlp wrote no {what}')
    spec.exit_code(301, 'ERROR_READING_OUTPUT', message='The output of mlp could not be read: {error}')
    spec.exit_code(302, 'ERROR_MLP', message='mlp stopped: {error}')


def _prepare(calcjob, folder, arguments: list[str], append: str = '') -> datastructures.CalcInfo:
    potential = calcjob.inputs.potential
    folder.create_file_from_filelike(io.BytesIO(potential.file_bytes(potential.filenames[0])), POTENTIAL, mode='wb')
    codeinfo = datastructures.CodeInfo()
    codeinfo.code_uuid = calcjob.inputs.code.uuid
    codeinfo.cmdline_params = arguments
    codeinfo.stdout_name = calcjob.options.output_filename
    codeinfo.stderr_name = 'mlp.err'
    calcinfo = datastructures.CalcInfo()
    calcinfo.codes_info = [codeinfo]
    calcinfo.append_text = append
    return calcinfo


def _write_frames(single_file: orm.SinglefileData, path: str, elements, labelled: bool) -> None:
    """Write the frames of ``single_file`` (with their labels when ``labelled``) to the ``.cfg`` ``path``."""
    with single_file.as_path() as source:
        frames = read_configurations(source) if labelled else [(atoms, None) for atoms in read_structures(source)]
    write_cfg(frames, path, elements, [{'index': index} for index in range(len(frames))])


class MtpGradeCalculation(CalcJob):
    """Extrapolation grades of configurations against an MTP's active set; optionally their cut neighbourhoods."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        _define_common(spec, 'defectgenome.mtp_grade')
        spec.input('structures', valid_type=orm.SinglefileData, help='Configurations to grade (any format ASE reads).')
        spec.output('grades', valid_type=orm.ArrayData, help='`grades` (n,), `atom_grades` (atoms,), `natoms` (n,).')
        spec.output(
            'clusters',
            valid_type=orm.SinglefileData,
            required=False,
            help='extxyz of the cut neighbourhoods: info `source_index` (configuration), `source_atom`, `gamma`; atom 0 central.',
        )

    def prepare_for_submission(self, folder):
        elements = self.inputs.parameters['elements']
        _write_frames(self.inputs.structures, folder.get_abs_path('in.cfg'), elements, labelled=False)
        radius = self.inputs.parameters.get('cut_radius')
        append = ''
        if radius:  # an MPI build writes graded.cfg.0: cut from whichever exists
            mlp = PurePosixPath(str(self.inputs.code.get_executable()))
            append = (
                'graded=graded.cfg; [ -f graded.cfg.0 ] && graded=graded.cfg.0\n'
                f'\'{mlp}\' cut_extrapolative_nbh "$graded" clusters.cfg --cutoff={radius:g} > cut.out 2> cut.err\n'
            )
        calcinfo = _prepare(self, folder, ['calculate_grade', POTENTIAL, 'in.cfg', 'graded.cfg'], append)
        calcinfo.retrieve_list = [self.options.output_filename, 'mlp.err', 'cut.out', 'cut.err', 'clusters.cfg']
        calcinfo.retrieve_temporary_list = ['graded.cfg', 'graded.cfg.0']
        return calcinfo


class MtpSelectCalculation(CalcJob):
    """The candidates an MTP's active set selects to add to its training set (``mlp select_add``)."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        _define_common(spec, 'defectgenome.mtp_select')
        spec.input('training_set', valid_type=orm.SinglefileData, help='The labelled training set of the MTP.')
        spec.input('candidates', valid_type=orm.SinglefileData, help='Candidate configurations (any format ASE reads).')
        spec.output('selected', valid_type=orm.List, help='Indices of the selected candidates, in the candidates file.')

    def prepare_for_submission(self, folder):
        elements = self.inputs.parameters['elements']
        _write_frames(self.inputs.training_set, folder.get_abs_path('train.cfg'), elements, labelled=True)
        _write_frames(self.inputs.candidates, folder.get_abs_path('candidates.cfg'), elements, labelled=False)
        arguments = ['select_add', POTENTIAL, 'train.cfg', 'candidates.cfg', 'selected.cfg', '--log=selection.log']
        calcinfo = _prepare(self, folder, arguments)
        calcinfo.retrieve_list = [self.options.output_filename, 'mlp.err', 'selected.cfg']
        calcinfo.retrieve_temporary_list = ['candidates.cfg']
        return calcinfo
