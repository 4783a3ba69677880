"""``training_set``: one extxyz file of labelled configurations, made from genome members and their labels."""

from __future__ import annotations

import hashlib
import io
import json

import ase.io
from aiida import orm
from aiida.engine import calcfunction

from ...core.structures.datasets import labelled_atoms
from ...data.labels import labels_rows

__all__ = ('TRAINING_SET_CHUNK', 'joined_training_set', 'training_set')

#: Configurations per ``training_set`` call. AiiDA checks each new input link of a process against all its
#: earlier ones, so one call's cost grows with the square of its inputs: the 679 configurations of the
#: demo's training took 60-75 s in one call (2 cores), in chunks of 50 a few seconds.
TRAINING_SET_CHUNK = 50


@calcfunction
def training_set(assignment: orm.Dict, **nodes) -> orm.SinglefileData:
    """Return ``training.extxyz``: one frame per entry of ``assignment``.

    :param assignment: ``{structure key: {'group': label, 'labels': table key, 'row': int}}``.
    :param nodes: ``structures__<key>`` (``StructureData``) and ``labels__<key>`` (labels tables).
    Frames carry energy, forces and stress (ASE conventions) and, in ``info``, ``dg_group``, ``uuid`` and
    ``dg_source`` (the labels' engine and a digest of its settings: energies of different sources are on
    different scales, which the trainer fits as offsets).
    """
    structures, tables = nodes['structures'], nodes['labels']
    rows = {key: labels_rows(table) for key, table in tables.items()}
    sources = {key: label_source(table) for key, table in tables.items()}
    frames = []
    for key, entry in assignment.get_dict().items():
        structure = structures[key]
        atoms = labelled_atoms(structure.get_ase(), rows[entry['labels']][entry['row']])
        atoms.info.update({'dg_group': entry['group'], 'uuid': structure.uuid, 'dg_source': sources[entry['labels']]})
        frames.append(atoms)
    handle = io.StringIO()
    ase.io.write(handle, frames, format='extxyz')
    return orm.SinglefileData(io.BytesIO(handle.getvalue().encode()), filename='training.extxyz')


@calcfunction
def joined_training_set(**parts: orm.SinglefileData) -> orm.SinglefileData:
    """Return ``training.extxyz``: the frames of ``parts`` (``training_set`` outputs) in the order of their keys."""
    content = b''.join(parts[key].get_content(mode='rb') for key in sorted(parts))
    return orm.SinglefileData(io.BytesIO(content), filename='training.extxyz')


def label_source(table: orm.ArrayData) -> str:
    """``<engine>`` or ``<engine>/<8 hex digits of its settings>``: what makes two labels comparable."""
    engine = table.base.attributes.get('engine', 'unknown')
    settings = table.base.attributes.get('settings', None)
    if not settings:
        return engine
    return f'{engine}/{hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]}'
