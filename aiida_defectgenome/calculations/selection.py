"""``SelectionCalculation``: pick extrapolative environments from a LAMMPS run's dumps on the computer that holds them.

The run's folder (``parent_folder``, a ``RemoteData``) is linked, not copied: the dump never travels.
The job runs :mod:`..core.jobs.dump_selection` with the computer's Python (``python -m ...``; this package
must be installed there) and retrieves only ``clusters.extxyz`` and ``summary.json``. The snapshots are graded
against ``active_set`` or, instead, against the own active set of a trained MTP (``mtp``, trained with
``--al_mode=nbh``) by MLIP-3's ``mlp calculate_grade`` (``mlp_code``, installed on the same computer).
"""

from __future__ import annotations

import io
import json

from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..core.doptimality.screening import validate_selection_parameters
from ..core.lammps.inputs import TRAJECTORY_DUMP
from ..core.mlip.mtp_grading import almtp_selection_mode
from ..data.active_set import ActiveSetData
from ..data.potential import InteratomicPotentialData
from . import python_module_codeinfo, serial_job_defaults
from .mtp_selection import validate_mtp_potential

__all__ = ('SelectionCalculation',)

_DUMP_FOLDER = 'parent'
_MTP_FILE = 'mtp.almtp'
_OWN = ('species', 'every', 'provenance')


def _validate_parameters(parameters: orm.Dict, _):
    values = parameters.get_dict()
    if not values.get('species'):
        return 'parameters need `species`: the element of each LAMMPS atom type, type 1 first'
    if not isinstance(values.get('every', 1), int) or values.get('every', 1) < 1:
        return '`every` (take every n-th snapshot) must be a positive integer'
    try:
        validate_selection_parameters({k: v for k, v in values.items() if k not in _OWN})
    except ValueError as exc:
        return str(exc)


def _validate_mtp(potential, port):
    not_mtp = validate_mtp_potential(potential, port)
    if not_mtp:
        return not_mtp
    mode = almtp_selection_mode(potential.file_bytes(potential.filenames[0]))
    if mode != 'nbh':
        state = 'has no active set' if mode is None else 'grades whole configurations (trained with --al_mode=cfg)'
        return f'MTP `{potential.name}` {state}: grading atoms needs an MTP trained with --al_mode=nbh'


def _validate_inputs(inputs, _):
    parent, code, mlp = inputs.get('parent_folder'), inputs.get('code'), inputs.get('mlp_code')
    for name, other in (('code', code), ('mlp_code', mlp)):
        if parent is not None and other is not None and parent.computer.uuid != other.computer.uuid:
            return (
                f'the selection must run where the dumps are: parent folder on `{parent.computer.label}`, '
                f'{name} on `{other.computer.label}`'
            )
    mtp = inputs.get('mtp')
    if (inputs.get('active_set') is None) == (mtp is None):
        return 'grade against either an `active_set` or an `mtp` (with `mlp_code`), not both, not neither'
    if mtp is not None:
        if not isinstance(mlp, orm.InstalledCode):
            return "grading with an `mtp` needs `mlp_code`: MLIP-3's mlp, an installed code on the computer of the dumps"
        parameters = inputs.get('parameters')
        missing = sorted(set(parameters.get('species', []) if parameters else []) - set(mtp.species))
        if missing:
            return f'MTP `{mtp.name}` knows {", ".join(mtp.species)}, not {", ".join(missing)} of the snapshots'


class SelectionCalculation(CalcJob):
    """Grade every snapshot of a LAMMPS run against an active set where the run is; return only clusters."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('parent_folder', valid_type=orm.RemoteData, help=f'The LAMMPS run folder holding `{TRAJECTORY_DUMP}`.')
        spec.input('active_set', valid_type=ActiveSetData, required=False, help='Active set (and descriptor) to grade against.')
        spec.input(
            'mtp',
            valid_type=InteratomicPotentialData,
            required=False,
            validator=_validate_mtp,
            help='Instead of active_set: a trained MTP (al_mode=nbh) whose own active set grades, by mlp calculate_grade.',
        )
        spec.input('mlp_code', valid_type=orm.AbstractCode, required=False, help="MLIP-3's mlp, with `mtp`.")
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            validator=_validate_parameters,
            help='`species`, `every`, `provenance` (copied into each cluster) and the selection settings.',
        )
        spec.inputs.validator = _validate_inputs
        serial_job_defaults(spec, 'defectgenome.selection')
        spec.output_namespace('clusters', valid_type=orm.StructureData, dynamic=True, help='One cluster per selected centre.')
        spec.output('cluster_info', valid_type=orm.Dict, help='Per cluster (same keys): centre, gamma, snapshot, step, ...')
        spec.output('summary', valid_type=orm.Dict, help='Snapshots, atoms, gamma histogram, selection counts, timing.')
        spec.default_output_node = 'summary'
        spec.exit_code(300, 'ERROR_NO_OUTPUT', message='The selection wrote no summary: see aiida.out ({error}).')
        spec.exit_code(301, 'ERROR_READING_OUTPUT', message='The selection output could not be read: {error}')

    def prepare_for_submission(self, folder):
        parameters = self.inputs.parameters.get_dict()
        request = {**parameters, 'dumps': [f'{_DUMP_FOLDER}/{TRAJECTORY_DUMP}']}
        calcinfo = datastructures.CalcInfo()
        if 'mtp' in self.inputs:
            mtp, mlp = self.inputs.mtp, self.inputs.mlp_code
            folder.create_file_from_filelike(io.BytesIO(mtp.file_bytes(mtp.filenames[0])), _MTP_FILE, mode='wb')
            request['mtp'] = {'mlp': str(mlp.get_executable()), 'potential': _MTP_FILE, 'elements': mtp.species}
            calcinfo.prepend_text = mlp.prepend_text  # e.g. the `module load` that mlp needs
        else:
            self.inputs.active_set.get_active_set().save(folder.get_abs_path('active_set.npz'))
        folder.create_file_from_filelike(io.StringIO(json.dumps(request)), 'selection.json', mode='w')
        folder.get_subfolder(_DUMP_FOLDER, create=True)

        calcinfo.codes_info = [python_module_codeinfo(self, 'aiida_defectgenome.core.jobs.dump_selection')]
        parent = self.inputs.parent_folder
        calcinfo.remote_symlink_list = [
            (parent.computer.uuid, f'{parent.get_remote_path()}/{TRAJECTORY_DUMP}', f'{_DUMP_FOLDER}/{TRAJECTORY_DUMP}')
        ]
        calcinfo.retrieve_list = ['clusters.extxyz', 'summary.json', self.options.output_filename]
        return calcinfo
