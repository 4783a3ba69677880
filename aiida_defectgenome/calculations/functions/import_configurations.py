"""``import_configurations``: a calcfunction turning a labelled dataset file into genome nodes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiida import orm
from aiida.engine import calcfunction

from ...common.structures import structure_from_atoms
from ...core.structures.datasets import fingerprint, read_configurations
from ...data.labels import labels_table, point_to_labels

__all__ = ('import_configurations',)


@calcfunction
def import_configurations(source: orm.SinglefileData, indices: orm.List, engine: orm.Str) -> dict:
    """Read the frames ``indices`` of ``source``; return a ``StructureData`` each (``structure_<index>``)
    and one labels table (``labels``) whose rows follow ``indices``.

    Each structure gets extras ``dg_fingerprint``, ``dg_labels``/``dg_labels_row`` (its labels),
    ``dg_source_index`` and ``dg_info`` (the frame's scalar ``info`` entries).
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / source.filename
        path.write_bytes(source.get_content(mode='rb'))
        configurations = read_configurations(path)
    chosen = [configurations[index] for index in indices.get_list()]
    table = labels_table([labels for _, labels in chosen], engine=engine.value)
    outputs = {'labels': table}
    for row, (index, (atoms, labels)) in enumerate(zip(indices.get_list(), chosen)):
        structure = structure_from_atoms(atoms)
        point_to_labels(structure, table, row)
        structure.base.extras.set_many(
            {
                'dg_fingerprint': fingerprint(atoms, labels),
                'dg_source_index': index,
                'dg_info': {k: _plain(v) for k, v in atoms.info.items() if _is_scalar(v)},
            }
        )
        outputs[f'structure_{index:06d}'] = structure
    return outputs


def _is_scalar(value) -> bool:
    return isinstance(value, (str, int, float, bool)) or getattr(value, 'ndim', None) == 0


def _plain(value):
    return value.item() if hasattr(value, 'item') else value
