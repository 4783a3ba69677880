"""The D-optimality engine on groups: active sets (built once per group content), gamma, selection.

Every step runs as a calcfunction (:mod:`aiida_defectgenome.calculations.functions.d_optimality`), so the
active set, the grades and the clusters are linked to the structures they come from. Gamma lands on the
configurations as extras ``dg_gamma_max`` (float) and ``dg_gamma_active_set`` (UUID), so that
``QueryBuilder().append(StructureData, filters={'extras.dg_gamma_max': {'>': 2}})`` finds them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from aiida import orm

from ..calculations.functions.d_optimality import (
    choose_centres,
    compute_active_set,
    compute_active_set_from_file,
    compute_descriptors,
    compute_gamma,
    cut_neighbourhoods,
)
from ..common.extras import update_extras
from ..core.doptimality.active_set import DEFAULT_TOL
from ..core.doptimality.descriptors import descriptor_from_parameters
from ..core.doptimality.screening import Grades, validate_selection_parameters
from ..core.structures.datasets import DatasetError
from ..data.active_set import ActiveSetData
from ..data.genome import GenomeGroup

__all__ = (
    'DEFAULT_DESCRIPTOR',
    'active_set_for_file',
    'active_set_for_group',
    'descriptors_for_group',
    'group_descriptor_rows',
    'grade_group',
    'grades_of',
    'group_structures',
    'select_from_group',
)

DEFAULT_DESCRIPTOR = {'name': 'snap', 'twojmax': 6, 'cutoff': 5.0}
_ACTIVE_SETS_EXTRA = 'dg_active_sets'
_DESCRIPTORS_EXTRA = 'dg_descriptors'
CHUNK = 50  # structures per compute_descriptors process (AiiDA links cost O(inputs^2))


def _load_group(label: str) -> orm.Group:
    try:
        return orm.Group.collection.get(label=label)
    except Exception as exc:
        known = ', '.join(g.label for g in GenomeGroup.collection.all()) or 'none yet'
        raise DatasetError(f'`{label}` is neither a file nor a group (genome groups: {known})') from exc


def _members(label: str) -> tuple[orm.Group, list[orm.StructureData]]:
    """Return group ``label`` and its ``StructureData`` members in the order they were stored (by pk)."""
    group = _load_group(label)
    query = orm.QueryBuilder().append(orm.Group, filters={'id': group.pk}, tag='group')
    query.append(orm.StructureData, with_group='group', project='*').order_by({orm.StructureData: 'id'})
    nodes = query.all(flat=True)
    if not nodes:
        raise DatasetError(f'group `{label}` holds no structures')
    return group, nodes


def group_structures(label: str) -> list[orm.StructureData]:
    """Return the ``StructureData`` members of group ``label`` in the order they were stored (by pk)."""
    return _members(label)[1]


def _namespace(nodes, prefix: str = 'structure') -> dict:
    return {f'{prefix}_{index:06d}': node for index, node in enumerate(nodes)}


def _settings(descriptor: dict | None, tol: float) -> dict:
    parameters = descriptor_from_parameters(descriptor or DEFAULT_DESCRIPTOR).parameters
    if not tol > 1.0:
        raise ValueError(f'the MaxVol tolerance must be larger than 1, got {tol!r}')
    return {'descriptor': parameters, 'tol': float(tol)}


def _cached(group: orm.Group, extra: str, key_data, build):
    """Return ``(value, reused)``: nodes (UUIDs in the group's extra ``extra`` under a key of ``key_data``)
    or ``build()``'s, remembered there."""
    key = hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()
    known = group.base.extras.get(extra, {})
    if key in known:
        try:
            return [orm.load_node(uuid) for uuid in known[key]], True
        except Exception:  # a node was deleted: build again
            pass
    nodes = build()
    group.base.extras.set(extra, {**known, key: [n.uuid for n in nodes]})
    return nodes, False


def descriptors_for_group(label: str, descriptor: dict | None = None) -> list[orm.ArrayData]:
    """Return the descriptor arrays of group ``label`` (``compute_descriptors`` on chunks of
    ``CHUNK`` structures), computed once per group content and descriptor."""
    return _descriptor_arrays(*_members(label), descriptor_from_parameters(descriptor or DEFAULT_DESCRIPTOR).parameters)


def _descriptor_arrays(group: orm.Group, nodes: list[orm.StructureData], parameters: dict) -> list[orm.ArrayData]:
    def build():
        chunks = [nodes[i : i + CHUNK] for i in range(0, len(nodes), CHUNK)]
        return [compute_descriptors(parameters=orm.Dict({'descriptor': parameters}), **_namespace(c)) for c in chunks]

    return _cached(group, _DESCRIPTORS_EXTRA, [parameters, [n.uuid for n in nodes]], build)[0]


def group_descriptor_rows(label: str, descriptor: dict) -> np.ndarray:
    """Return the ``(atoms, m)`` descriptor rows of group ``label``, from its stored descriptor arrays."""
    return np.concatenate([array.get_array('rows') for array in descriptors_for_group(label, descriptor)])


def active_set_for_group(label: str, descriptor: dict | None = None, tol: float = DEFAULT_TOL) -> tuple[ActiveSetData, bool]:
    """Return ``(node, reused)``: the active set of every atom of group ``label``.

    The set is built once per group content and settings (the group's extra ``dg_active_sets``
    remembers it), from the group's descriptor arrays.
    """
    settings = _settings(descriptor, tol)
    group, nodes = _members(label)

    def build():
        arrays = _descriptor_arrays(group, nodes, settings['descriptor'])
        return [compute_active_set(parameters=orm.Dict({'tol': settings['tol']}), **_namespace(arrays, 'descriptors'))]

    found, reused = _cached(group, _ACTIVE_SETS_EXTRA, [settings, [n.uuid for n in nodes]], build)
    return found[0], reused


def active_set_for_file(path, descriptor: dict | None = None, tol: float = DEFAULT_TOL, species=()) -> ActiveSetData:
    """Return the active set of every atom of a structure file, stored with the file as its input."""
    settings = _settings(descriptor, tol)
    source = orm.SinglefileData(Path(path).absolute())
    return compute_active_set_from_file(parameters=orm.Dict(settings), source=source, species=orm.List(list(species)))


def grades_of(node: orm.ArrayData) -> Grades:
    """Return the core :class:`Grades` held by an output of ``compute_gamma``."""
    return Grades(node.get_array('gamma'), node.get_array('counts'), node.get_array('maxima'))


def grade_group(active_set: ActiveSetData, label: str) -> orm.ArrayData:
    """Grade every atom of group ``label``; set extras ``dg_gamma_max`` and ``dg_gamma_active_set``."""
    arrays = descriptors_for_group(label, active_set.descriptor)
    grades = compute_gamma(active_set=active_set, **_namespace(arrays, 'descriptors'))
    maxima = zip(grades.base.attributes.get('structures'), grades.get_array('maxima').tolist())
    update_extras({uuid: {'dg_gamma_max': value, 'dg_gamma_active_set': active_set.uuid} for uuid, value in maxima})
    return grades


def select_from_group(
    active_set: ActiveSetData, label: str, parameters: dict | None = None, output_group: str | None = None
) -> tuple[dict, orm.Dict]:
    """Choose extrapolative centres in group ``label`` and cut a cluster around each.

    :param parameters: see :func:`~aiida_defectgenome.core.doptimality.screening.validate_selection_parameters`.
    :param output_group: genome group that receives the clusters (not the vacuum-padded variants).
    :returns: the outputs of ``cut_neighbourhoods`` (empty when nothing is selected) and the centres.
    """
    settings = validate_selection_parameters(parameters or {})
    arrays = descriptors_for_group(label, active_set.descriptor)
    choice = {'threshold': settings['threshold'], 'limit': settings['limit']}
    centres = choose_centres(active_set=active_set, parameters=orm.Dict(choice), **_namespace(arrays, 'descriptors'))
    holders = sorted(set(centres['uuid']))
    if not holders:
        return {}, centres
    cutting = {key: settings[key] for key in ('radius', 'merge_distance', 'periodic_axes', 'vacuum')}
    outputs = cut_neighbourhoods(
        active_set=active_set,
        centres=centres,
        parameters=orm.Dict(cutting),
        **_namespace([orm.load_node(uuid) for uuid in holders]),
    )
    if output_group:
        group, _ = GenomeGroup.collection.get_or_create(label=output_group)
        group.add_nodes([node for key, node in sorted(outputs.items()) if key.startswith('cluster_')])
    return outputs, centres
