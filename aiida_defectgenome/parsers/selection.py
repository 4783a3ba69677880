"""Parser of ``SelectionCalculation``: the cut clusters as ``StructureData`` and the selection summary."""

from __future__ import annotations

import io
import json

import ase.io
from aiida import orm
from aiida.parsers import Parser

from ..common.structures import structure_from_atoms
from . import missing_output

__all__ = ('SelectionParser',)

#: Cluster info copied into ``cluster_info`` (the rest of the provenance is passed through as well).
_INFO_SKIP = ('core_mask', 'translation', 'periodic_axes', 'merged')


class SelectionParser(Parser):
    """Turn ``clusters.extxyz`` and ``summary.json`` into outputs."""

    def parse(self, **kwargs):
        names = self.retrieved.base.repository.list_object_names()
        missing = missing_output(self, 'summary.json')
        if missing is not None:
            return missing
        try:
            summary = json.loads(self.retrieved.base.repository.get_object_content('summary.json'))
            text = self.retrieved.base.repository.get_object_content('clusters.extxyz') if 'clusters.extxyz' in names else ''
            clusters = ase.io.read(io.StringIO(text), index=':', format='extxyz') if text.strip() else []
        except Exception as exc:  # a truncated file: reported with its reason
            return self.exit_codes.ERROR_READING_OUTPUT.format(error=f'{type(exc).__name__}: {exc}')
        info = {}
        for k, atoms in enumerate(clusters):
            key = f'cluster_{k:04d}'
            self.out(f'clusters.{key}', structure_from_atoms(atoms))
            info[key] = {name: _plain(value) for name, value in atoms.info.items() if name not in _INFO_SKIP}
        self.out('cluster_info', orm.Dict(info))
        self.out('summary', orm.Dict(summary))
        return None


def _plain(value):
    if hasattr(value, 'tolist'):
        return value.tolist()
    return value
