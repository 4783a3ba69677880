"""Calcfunctions of the D-optimality engine: descriptors, active set, gamma, centres and clusters.

AiiDA validates each new input link against all earlier ones, so a process with hundreds of structure
inputs spends most of its time linking (678 inputs: 37 s). The chain is therefore: structures, in chunks,
-> ``compute_descriptors`` -> descriptor arrays -> ``compute_active_set`` / ``compute_gamma`` /
``choose_centres`` (a few inputs each) -> ``cut_neighbourhoods`` (only the structures that hold a centre).
Namespaced inputs (``structure_000000``, ``descriptors_000000``, ...) are processed in sorted label order.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from ...common.structures import atoms_from_structure, structure_from_atoms
from ...core.doptimality.active_set import build_active_set, configuration_grades, source_atoms
from ...core.doptimality.clusters import pad_with_vacuum
from ...core.doptimality.descriptors import descriptor_from_parameters
from ...core.doptimality.screening import Centres, cut_around_centres, default_merge_distance
from ...core.doptimality.screening import choose_centres as choose
from ...core.structures.datasets import read_structures
from ...data.active_set import ActiveSetData

__all__ = (
    'choose_centres',
    'compute_active_set',
    'compute_active_set_from_file',
    'compute_descriptors',
    'compute_gamma',
    'cut_neighbourhoods',
)


def _ordered(nodes: dict) -> list:
    return [nodes[label] for label in sorted(nodes)]


def _stacked(descriptors: dict) -> tuple[np.ndarray, np.ndarray, list[str], dict]:
    """Return ``(rows, counts, structure UUIDs, descriptor parameters)`` of descriptor-array inputs."""
    nodes = _ordered(descriptors)
    settings = {repr(sorted(n.base.attributes.get('descriptor').items())) for n in nodes}
    if len(settings) != 1:
        raise ValueError('the descriptor arrays were made with different descriptor settings')
    rows = np.concatenate([n.get_array('rows') for n in nodes])
    counts = np.concatenate([n.get_array('counts') for n in nodes])
    uuids = [uuid for n in nodes for uuid in n.base.attributes.get('structures')]
    return rows, counts, uuids, nodes[0].base.attributes.get('descriptor')


def _active_set_node(rows, counts, sources: list[str], descriptor: dict, tol: float) -> ActiveSetData:
    active = build_active_set(rows, descriptor, tol=tol)
    node = ActiveSetData(active)
    pairs = source_atoms(active, counts)
    node.base.attributes.set('source_atoms', [None if pair is None else [sources[pair[0]], pair[1]] for pair in pairs])
    node.base.attributes.set('structures', len(sources))
    return node


@calcfunction
def compute_descriptors(parameters: orm.Dict, **structures) -> orm.ArrayData:
    """Return per-atom descriptors of ``structures``: arrays ``rows`` ``(atoms, m)`` and ``counts``;
    attributes ``descriptor`` (its parameters) and ``structures`` (UUIDs, in order).
    ``parameters``: ``{'descriptor': {'name': 'snap', 'twojmax': 6, 'cutoff': 5.0}}``."""
    descriptor = descriptor_from_parameters(parameters['descriptor'])
    nodes = _ordered(structures)
    rows, counts = descriptor.compute_many([atoms_from_structure(n) for n in nodes])
    result = orm.ArrayData()
    result.set_array('rows', rows)
    result.set_array('counts', counts)
    result.base.attributes.set('descriptor', descriptor.parameters)
    result.base.attributes.set('structures', [n.uuid for n in nodes])
    return result


@calcfunction
def compute_active_set(parameters: orm.Dict, **descriptors) -> ActiveSetData:
    """Return the active set of all descriptor rows (``parameters``: ``tol``). Attribute
    ``source_atoms`` gives ``[structure UUID, atom index]`` of each active row (``None``: virtual)."""
    rows, counts, uuids, descriptor = _stacked(descriptors)
    return _active_set_node(rows, counts, uuids, descriptor, parameters.get('tol', 1.001))


@calcfunction
def compute_active_set_from_file(parameters: orm.Dict, source: orm.SinglefileData, species: orm.List) -> ActiveSetData:
    """Return the active set of every atom of the frames of a structure file (``source_atoms``: frame
    and atom index). ``parameters``: ``descriptor`` and ``tol``; ``species`` names LAMMPS dump types."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / source.filename
        path.write_bytes(source.get_content(mode='rb'))
        frames = read_structures(path, species.get_list() or None)
    descriptor = descriptor_from_parameters(parameters['descriptor'])
    rows, counts = descriptor.compute_many(frames)
    frames_named = [f'frame {i}' for i in range(len(frames))]
    return _active_set_node(rows, counts, frames_named, descriptor.parameters, parameters.get('tol', 1.001))


@calcfunction
def compute_gamma(active_set: ActiveSetData, **descriptors) -> orm.ArrayData:
    """Return the extrapolation grade of every atom: arrays ``gamma`` (structure after structure),
    ``counts`` and ``maxima`` (per structure); attribute ``structures`` (UUIDs, in order)."""
    rows, counts, uuids, descriptor = _stacked(descriptors)
    active = active_set.get_active_set()
    if descriptor != active.descriptor:
        raise ValueError(f"descriptor {descriptor} differs from the active set's {active.descriptor}")
    gamma = active.grade(rows)
    result = orm.ArrayData()
    result.set_array('gamma', gamma)
    result.set_array('counts', counts)
    result.set_array('maxima', configuration_grades(gamma, counts))
    result.base.attributes.set('structures', uuids)
    return result


@calcfunction
def choose_centres(active_set: ActiveSetData, parameters: orm.Dict, **descriptors) -> orm.Dict:
    """Return the selected central atoms (``parameters``: ``threshold``, ``limit``): ``structure``
    (index), ``uuid``, ``atom``, ``gamma``, and the counts ``preselected``, ``duplicates``, ``atoms``."""
    rows, counts, uuids, _ = _stacked(descriptors)
    centres = choose(active_set.get_active_set(), rows, counts, parameters['threshold'], parameters.get('limit'))
    return orm.Dict({**centres.as_dict(), 'uuid': [uuids[i] for i in centres.structure.tolist()], 'atoms': int(counts.sum())})


@calcfunction
def cut_neighbourhoods(active_set: ActiveSetData, centres: orm.Dict, parameters: orm.Dict, **structures) -> dict:
    """Cut a cluster around every centre of ``centres`` that ``structures`` hold (merging close ones).

    ``parameters``: ``radius``, ``merge_distance`` (``None``: radius minus the descriptor cutoff),
    ``periodic_axes``, ``vacuum`` (> 0 also gives ``padded_<k>``: the paper's "C" clusters).
    Outputs ``cluster_<k>`` and ``summary``. Each cluster has extras ``dg_source`` (UUID),
    ``dg_centre_atom``, ``dg_gamma``, ``dg_core_atoms`` (all its atoms are core), ``dg_merged_centres``,
    ``dg_cut_radius``, ``dg_periodic_axes`` and ``dg_variant`` (``cluster`` or ``padded``).
    """
    nodes = {n.uuid: n for n in _ordered(structures)}
    chosen = centres.get_dict()
    keep = [i for i, uuid in enumerate(chosen['uuid']) if uuid in nodes]
    order = sorted(nodes)
    position = {uuid: i for i, uuid in enumerate(order)}
    mine = Centres(
        np.array([position[chosen['uuid'][i]] for i in keep], dtype=int),
        np.array([chosen['atom'][i] for i in keep], dtype=int),
        np.array([chosen['gamma'][i] for i in keep], dtype=float),
        chosen['preselected'],
        chosen['duplicates'],
    )
    radius = parameters['radius']
    merge = parameters.get('merge_distance')
    merge = default_merge_distance(active_set.get_active_set(), radius) if merge is None else merge
    atoms = {i: atoms_from_structure(nodes[uuid]) for i, uuid in enumerate(order)}
    clusters, merged = cut_around_centres(atoms, mine, radius, merge, parameters.get('periodic_axes', []))
    outputs, rows = {}, []
    for index, cluster in enumerate(clusters):
        source = nodes[order[cluster.info['source_structure']]]
        extras = {
            'dg_source': source.uuid,
            'dg_centre_atom': cluster.info['source_centre'],
            'dg_gamma': cluster.info['gamma'],
            'dg_core_atoms': len(cluster),
            'dg_merged_centres': cluster.info['merged'],
            'dg_cut_radius': cluster.info['cut_radius'],
            'dg_periodic_axes': cluster.info['periodic_axes'],
        }
        variants = {'cluster': cluster}
        if parameters.get('vacuum', 0.0) > 0:
            variants['padded'] = pad_with_vacuum(cluster, parameters['vacuum'])
        for kind, variant in variants.items():
            node = structure_from_atoms(variant)
            node.base.extras.set_many({**extras, 'dg_variant': kind})
            outputs[f'{kind}_{index:06d}'] = node
        rows.append(
            {'source': source.uuid, 'centre_atom': extras['dg_centre_atom'], 'gamma': extras['dg_gamma'], 'atoms': len(cluster)}
        )
    outputs['summary'] = orm.Dict({'centres': len(keep), 'merged': merged, 'clusters': rows, 'merge_distance': merge})
    return outputs
