"""Where a genome configuration came from: the chain potential -> loading -> snapshot -> centre atom -> box
-> DFT run -> models, read from the provenance graph and the ``dg_*`` extras the workflows set."""

from __future__ import annotations

from aiida import orm
from aiida.common.links import LinkType
from aiida.tools.graph.graph_traversers import traverse_graph

from ..core.jobs.gamma_md import validate_watch
from ..data.potential import InteratomicPotentialData

__all__ = ('ancestors', 'descendants', 'provenance_chain')

#: Data provenance: data -> calculation (inputs) and calculation -> data (outputs), no workflow links.
_DATA_LINKS = (LinkType.INPUT_CALC, LinkType.CREATE)


def ancestors(node: orm.Node) -> set[int]:
    """Pks of every node ``node`` descends from through calculations.

    A set-based traversal: ``QueryBuilder``'s ``with_descendants`` enumerates paths, and a campaign's graph
    has so many (every basic configuration reaches a model through every box run of every cell) that it
    ran out of 24 GB of memory.
    """
    return traverse_graph([node.pk], links_backward=_DATA_LINKS)['nodes'] - {node.pk}


def descendants(node: orm.Node) -> set[int]:
    """Pks of every node made, through calculations, from ``node`` (see :func:`ancestors`)."""
    return traverse_graph([node.pk], links_forward=_DATA_LINKS)['nodes'] - {node.pk}


def _process(node) -> str:
    return f'{node.process_label}<{node.pk}>' if node is not None else 'unknown'


def _stage_text(stage: dict) -> str:
    """``md 1200 K 4000 steps``-style summary of one LAMMPS stage of :mod:`..core.lammps.inputs`."""
    parts = [stage.get('type', '?')]
    if 'temperature' in stage:
        parts.append(f'{stage["temperature"]:g} K')
    if 'steps' in stage:
        parts.append(f'{stage["steps"]} steps')
    return ' '.join(parts)


def _eip_steps(cluster: orm.StructureData) -> list[dict]:
    """Potential, loading, snapshot and centre of a cluster cut by the EIP sampling."""
    extras = cluster.base.extras.all
    selection = cluster.creator
    lammps = selection.inputs.parent_folder.creator if selection is not None and 'parent_folder' in selection.inputs else None
    steps = []
    if lammps is not None and 'potential' in lammps.inputs:
        potential = lammps.inputs.potential
        steps.append({'step': 'potential', 'text': f'{potential.label} ({potential.pair_style})', 'uuid': potential.uuid})
    stages = [_stage_text(stage) for stage in lammps.inputs.parameters.get('stages', [])] if lammps else []
    scenario = f'{extras.get("dg_scenario")} {extras.get("dg_variant", "")}'.strip()
    loading = f'{scenario}: {", ".join(map(str, stages))} in {_process(lammps)}' if stages else f'{scenario} in {_process(lammps)}'
    steps.append({'step': 'loading', 'text': loading, 'uuid': lammps.uuid if lammps else None})
    steps.append({'step': 'snapshot', 'text': f'snapshot {extras.get("dg_snapshot")} (MD step {extras.get("dg_step")})'})
    steps.append(
        {
            'step': 'centre atom',
            'text': f'atom {extras.get("dg_source_atom")} of the snapshot, gamma {extras.get("dg_gamma", float("nan")):.2f}, '
            f'cut by {_process(selection)}',
            'uuid': cluster.uuid,
        }
    )
    return steps


def _watched_md_steps(cluster: orm.StructureData) -> list[dict]:
    """Model, watched MD, snapshot and centre of a cluster found by active learning."""
    snapshot = orm.load_node(cluster.base.extras.get('dg_source'))
    md = snapshot.creator
    model = md.inputs.potential
    extras = snapshot.base.extras.all
    stages = validate_watch(md.inputs.parameters.get_dict())['stages']  # also the NVT shorthand of older runs
    return [
        {'step': 'potential', 'text': f'{model.label} ({model.pair_style}) by {_process(model.creator)}', 'uuid': model.uuid},
        {
            'step': 'loading',
            'text': f'{extras.get("dg_scenario")}: watched MLIP MD ({", ".join(map(_stage_text, stages))}), '
            f'active-learning round {extras.get("dg_iteration")}, in {_process(md)}',
            'uuid': md.uuid,
        },
        {'step': 'snapshot', 'text': f'MD step {extras.get("dg_step")}, gamma_max {extras.get("dg_gamma_max", float("nan")):.2f}'},
        {
            'step': 'centre atom',
            'text': f'atom {cluster.base.extras.get("dg_centre_atom")} of the snapshot, gamma '
            f'{cluster.base.extras.get("dg_gamma", float("nan")):.2f}, cut by {_process(cluster.creator)}',
            'uuid': cluster.uuid,
        },
    ]


def _box_step(cell: orm.StructureData) -> dict:
    """The PCC-GCMC box run that made a periodic cell."""
    assess = cell.creator
    figures = assess.outputs.figures.get_dict() if assess is not None and 'figures' in assess.outputs else {}
    chosen = figures.get('candidates', [{}])[figures['chosen']] if figures.get('chosen') is not None else {}
    box = chosen.get('box')
    source = assess.inputs[f'structure_{box}'] if assess is not None and f'structure_{box}' in assess.inputs else None
    run = source.creator if source is not None else None
    lengths = ' x '.join(f'{v:.2f}' for v in chosen.get('lengths', []))
    return {
        'step': 'box',
        'text': f'box {box} ({lengths} A), {len(cell.sites)} atoms, {cell.base.extras.get("dg_energy_per_atom", float("nan")):.4f} '
        f'eV/atom, GCMC in {_process(run)}',
        'uuid': run.uuid if run is not None else None,
    }


def _dft_step(structure: orm.StructureData) -> dict:
    """The run that made the configuration's labels: a DFT job, or the import of a labelled file."""
    uuid = structure.base.extras.get('dg_labels', None)
    if uuid is None:
        return {'step': 'DFT run', 'text': 'not labelled'}
    table = orm.load_node(uuid)
    engine = table.base.attributes.get('engine', 'unknown')
    creator = table.creator
    if creator is not None and creator.process_label == 'import_configurations':
        source = creator.inputs.source.filename if 'source' in creator.inputs else '?'
        return {'step': 'DFT run', 'text': f'{engine} labels imported from {source} by {_process(creator)}', 'uuid': table.uuid}
    if creator is not None and creator.process_label == 'vasp_labels':
        creator = creator.inputs.misc.creator
    return {'step': 'DFT run', 'text': f'{engine}: {_process(creator)}', 'uuid': creator.uuid if creator else table.uuid}


def provenance_chain(structure: orm.StructureData) -> list[dict]:
    """Return the steps (``step``, ``text``, optional ``uuid``) that made ``structure`` and used it.

    Handles EIP clusters (extras ``dg_scenario`` ...), clusters cut from watched MLIP MD (active learning),
    PCC-GCMC cells (``dg_cluster``) and imported configurations; ``models`` lists every trained potential
    that descends from the configuration.
    """
    steps = []
    cluster_uuid = structure.base.extras.get('dg_cluster', None)
    cluster = orm.load_node(cluster_uuid) if cluster_uuid else structure
    if cluster.base.extras.get('dg_scenario', None) is not None:
        steps.extend(_eip_steps(cluster))
    elif cluster.creator is not None and cluster.creator.process_label == 'cut_neighbourhoods':
        steps.extend(_watched_md_steps(cluster))
    else:
        creator = cluster.creator
        steps.append({'step': 'origin', 'text': f'made by {_process(creator)}', 'uuid': creator.uuid if creator else None})
    if cluster_uuid:
        steps.append(_box_step(structure))
    steps.append(_dft_step(structure))
    made = list(descendants(structure))
    models = orm.QueryBuilder().append(InteratomicPotentialData, filters={'id': {'in': made}}).all(flat=True) if made else []
    text = ', '.join(f'{m.label} ({_process(m.creator)})' for m in models) or 'none yet'
    steps.append({'step': 'models', 'text': text, 'uuids': [m.uuid for m in models]})
    return steps
