"""Parser of ``GammaMdCalculation``: saved snapshots as ``StructureData``, their per-atom gamma, the summary."""

from __future__ import annotations

import io
import json

import ase.io
from aiida import orm
from aiida.parsers import Parser

from ..common.structures import structure_from_atoms
from . import missing_output

__all__ = ('GammaMdParser',)


class GammaMdParser(Parser):
    """Snapshot ``k`` becomes ``snapshots.snapshot_<k>`` (extras ``dg_step``, ``dg_gamma_max``) and array ``snapshot_<k>``."""

    def parse(self, **kwargs):
        repository = self.retrieved.base.repository
        names = repository.list_object_names()
        missing = missing_output(self, 'summary.json')
        if missing is not None:
            return missing
        try:
            summary = json.loads(repository.get_object_content('summary.json'))
            text = repository.get_object_content('saved.extxyz') if 'saved.extxyz' in names else ''
            frames = ase.io.read(io.StringIO(text), index=':', format='extxyz') if text.strip() else []
        except Exception as exc:  # a truncated file: reported with its reason
            return self.exit_codes.ERROR_READING_OUTPUT.format(error=f'{type(exc).__name__}: {exc}')
        gamma = orm.ArrayData()
        for k, atoms in enumerate(frames):
            key = f'snapshot_{k:04d}'
            gamma.set_array(key, atoms.arrays['gamma'])
            structure = structure_from_atoms(atoms)
            structure.base.extras.set_many({'dg_step': int(atoms.info['step']), 'dg_gamma_max': float(atoms.info['gamma_max'])})
            self.out(f'snapshots.{key}', structure)
        if frames:
            self.out('gamma', gamma)
        self.out('summary', orm.Dict(summary))
        return None
