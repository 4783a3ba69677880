"""What a running or finished campaign (``DefectGenomeWorkChain``) is doing and took, read from the provenance graph."""

from __future__ import annotations

from pathlib import Path

from aiida import orm
from aiida.common.links import LinkType

from ..common.processes import ACTIVE_STATES, is_orphan
from ..data.genome import GenomeGroup
from ..workflows import process_failure

__all__ = ('active_campaigns', 'campaign_groups', 'campaign_status', 'stage_times', 'write_campaign_plots')


def _call_label(process: orm.ProcessNode) -> str:
    """The link label its caller gave ``process`` (its pk when it has no caller)."""
    link = process.base.links.get_incoming(link_type=(LinkType.CALL_CALC, LinkType.CALL_WORK)).first()
    return link.link_label if link else str(process.pk)


def _seconds(process: orm.ProcessNode) -> float:
    return (process.mtime - process.ctime).total_seconds()


def active_campaigns() -> list[int]:
    """Pks of the campaigns not yet terminated (created, waiting or running), oldest first."""
    from ..workflows.campaign import DefectGenomeWorkChain

    states = {'attributes.process_state': {'in': list(ACTIVE_STATES)}}
    query = orm.QueryBuilder().append(DefectGenomeWorkChain, filters=states, project='id')
    return sorted(query.all(flat=True))


def campaign_groups(prefix: str) -> dict[str, int]:
    """``{label: StructureData members}`` of every group ``<prefix>/...``."""
    query = orm.QueryBuilder().append(orm.Group, filters={'label': {'like': f'{prefix}/%'}}, project='label', tag='group')
    counts = {label: 0 for label in query.all(flat=True)}
    members = orm.QueryBuilder().append(orm.Group, filters={'label': {'like': f'{prefix}/%'}}, project='label', tag='group')
    members.append(orm.StructureData, with_group='group', project='id')
    for label, _ in members.iterall():
        counts[label] += 1
    return dict(sorted(counts.items()))


def campaign_status(node: orm.WorkflowNode) -> dict:
    """Return state, current stage, groups with their counts, running jobs, orphans (processes left unfinished
    under a process that has ended, e.g. by a daemon worker that died: :func:`.processes.is_orphan`), the gamma_max
    trend of the watched MD runs (in the order they were made), the active-learning round, and the failures."""
    descendants = sorted(node.called_descendants, key=lambda n: n.ctime)
    children = sorted(node.called, key=lambda n: n.ctime)
    active = [n for n in descendants if not n.is_terminated]
    orphans = [n for n in active if is_orphan(n)]
    running = [n for n in active if n not in orphans]
    trend = []
    for md in (n for n in descendants if n.process_label == 'GammaMdCalculation' and n.is_finished_ok):
        summary = md.outputs.summary.get_dict()
        label = _call_label(md)
        gamma_max = max(summary['gamma_max'], default=0.0)
        trend.append({'run': label, 'pk': md.pk, 'gamma_max': gamma_max, 'stopped': summary['stopped']})
    prefix = node.inputs.group_prefix.value if 'group_prefix' in node.inputs else None
    return {
        'pk': node.pk,
        'process': node.process_label,
        'state': node.process_state.value if node.process_state else 'unknown',
        'exit_status': node.exit_status,
        'exit_message': node.exit_message,
        'stage': children[-1].process_label if children else None,
        'labels': _labeller(node),
        'round': sum(n.process_label == 'TrainingWorkChain' for n in descendants),
        'groups': campaign_groups(prefix) if prefix else {},
        'running': [{'pk': n.pk, 'process': n.process_label, 'state': n.process_state.value} for n in running],
        'orphans': [{'pk': n.pk, 'process': n.process_label, 'state': n.process_state.value} for n in orphans],
        'gamma_max': trend,
        'failures': [process_failure(n) for n in descendants if n.is_finished and not n.is_finished_ok or n.is_excepted],
    }


def _labeller(node: orm.WorkflowNode) -> str | None:
    """What labels a campaign's configurations: the DFT engine, or the reference potential standing in for it."""
    if 'dft_labeling' not in node.inputs:
        return None
    labeling = node.inputs.dft_labeling
    if labeling['engine'].value == 'reference':
        return f'reference potential {labeling["reference_potential"].name} (a surrogate, not DFT)'
    return labeling['engine'].value


def stage_times(node: orm.WorkflowNode) -> list[dict]:
    """Wall time (s, creation to last change) of each stage of a campaign and of each step of its active
    learning; calcfunctions of one name are summed into one row (``count`` of them)."""
    rows, functions = [], {}

    def add(process, indent=''):
        if isinstance(process, orm.CalcFunctionNode):
            key = (indent, process.process_label)
            if key not in functions:
                functions[key] = {'stage': indent + process.process_label, 'process': 'calcfunction', 'seconds': 0.0, 'count': 0}
                rows.append(functions[key])
            functions[key]['seconds'] += _seconds(process)
            functions[key]['count'] += 1
            return
        rows.append({'stage': f'{indent}{_call_label(process)}', 'process': process.process_label, 'seconds': _seconds(process)})

    for child in sorted(node.called, key=lambda n: n.ctime):
        add(child)
        if child.process_label == 'ActiveLearningWorkChain':
            for step in sorted(child.called, key=lambda n: n.ctime):
                add(step, '  ')
    return rows


def write_campaign_plots(node: orm.WorkflowNode, basic: str, folder) -> list[Path]:
    """Write the campaign's figures into ``folder``: ``gamma.png`` (per-atom gamma of every genome group
    against the basic set, the paper's Fig. 3e-f), ``pcc_energy_map.png`` (the first PCC-GCMC cluster),
    and ``parity.png`` and ``learning_curve.png`` of the final model. Returns the paths written."""
    from ..core.plots import plot_gamma_distributions
    from ..services.genome import genome_stats

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = node.inputs.group_prefix.value
    query = orm.QueryBuilder().append(GenomeGroup, filters={'label': {'like': f'{prefix}/%'}}, project='label')
    _, gammas = genome_stats([basic, *sorted(query.all(flat=True))], reference=basic)
    paths = [plot_gamma_distributions(gammas, folder / 'gamma.png', title=f'extrapolation grade against `{basic}`')]
    descendants = sorted(node.called_descendants, key=lambda n: n.ctime)
    figures = [
        ('PccGcmcWorkChain', 'energy_map_plot', 'pcc_energy_map.png', descendants),
        ('TrainingWorkChain', 'parity_plot', 'parity.png', descendants[::-1]),
        ('TrainingWorkChain', 'learning_curve_plot', 'learning_curve.png', descendants[::-1]),
    ]
    for label, output, name, order in figures:
        process = next((n for n in order if n.process_label == label and n.is_finished_ok and output in n.outputs), None)
        if process is not None:
            paths.append(folder / name)
            paths[-1].write_bytes(process.outputs[output].get_content(mode='rb'))
    return paths
