"""``ActiveLearningWorkChain``: on-the-fly active learning of a SNAP model on the user's scenarios.

Each round trains a model on the genome groups (``TrainingWorkChain``), whose job also builds the active
set of its training data in the model's own basis (so gamma is the model's extrapolation grade; computed
where the training runs, not in the daemon), and runs watched
MLIP MD (``GammaMdCalculation``) on every scenario structure: under its loading (``loadings``: the LAMMPS
stages EIP sampling runs, e.g. an anneal, tension, indentation, a K ramp) or, without one, NVT as ``md``
says. Snapshots above the save threshold are
kept; a run that loses atoms is reported as a sign of extrapolation. Around the most extrapolative atoms
clusters are cut (D-optimal selection), made periodic (``PccGcmcGroupWorkChain``), labelled
(``DftLabelingWorkChain``), and their group joins the training groups. It stops when a round finds no
new environment, or after ``max_iterations`` rounds (the last model is then trained on everything).

Groups of round ``k`` and scenario ``s``: ``<prefix>-<s>-iter<k>`` (the labelled cells, a genome group),
``...-snapshots`` and ``...-clusters``. Every cell carries extras ``dg_scenario``, ``dg_iteration``,
``dg_snapshot`` (UUID) and ``dg_step``; its ancestry reaches the snapshot and the MD run.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, WorkChain, if_, while_

from ..calculations.functions.summaries import workflow_summary
from ..calculations.gamma_md import GammaMdCalculation
from ..common.extras import update_extras
from ..common.validators import dict_validator
from ..core.doptimality.screening import validate_selection_parameters
from ..core.jobs.gamma_md import watch_settings
from ..services.d_optimality import select_from_group
from . import process_failure
from .dft_labeling import DftLabelingWorkChain
from .pcc_gcmc import PccGcmcGroupWorkChain
from .training import TrainingWorkChain

__all__ = ('ActiveLearningWorkChain',)


def _validate_inputs(inputs, _):
    structures, loadings = inputs.get('structures', {}), inputs.get('loadings', {})
    if not structures:
        return 'give at least one scenario structure (`structures`)'
    if set(loadings) - set(structures):
        return f'loadings for no structure: {", ".join(sorted(set(loadings) - set(structures)))}'
    for name in sorted(structures):
        try:
            _watch(inputs['md'], loadings.get(name))
        except ValueError as exc:
            return f'watched MD of `{name}`: {exc}'
    trainer = inputs.get('training', {}).get('trainer')
    if trainer is not None and trainer.value != 'snap':
        return 'active learning grades with the model basis of the built-in SNAP trainer: use trainer `snap`'
    groups = inputs.get('groups')
    if groups is not None and not groups.get_list():
        return 'give at least one genome group to train on'


def _watch(md: orm.Dict, loading: orm.Dict | None) -> dict:
    return watch_settings(md.get_dict(), None if loading is None else loading.get_dict())


class ActiveLearningWorkChain(WorkChain):
    """Train, run watched MLIP MD, cut and label what extrapolates, retrain; until nothing new appears."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('groups', valid_type=orm.List, help='Labels of the labelled genome groups of the first model.')
        spec.expose_inputs(TrainingWorkChain, namespace='training', exclude=('groups',))
        spec.input_namespace('structures', valid_type=orm.StructureData, dynamic=True, help='Scenario start structures.')
        spec.input('md', valid_type=orm.Dict, help='Watch settings and NVT shorthand (core.jobs.gamma_md.WATCH_KEYS).')
        spec.input_namespace(
            'loadings', valid_type=orm.Dict, dynamic=True, required=False, help='Per structure: LAMMPS `stages` and `frozen`.'
        )
        spec.input('md_code', valid_type=orm.AbstractCode, help='Python with this package and LAMMPS, for the watched MD.')
        spec.input(
            'selection',
            valid_type=orm.Dict,
            default=lambda: orm.Dict({}),
            validator=dict_validator(validate_selection_parameters),
            help='Cluster selection (core.doptimality.screening.SELECTION_DEFAULTS); threshold defaults to md.save_threshold.',
        )
        spec.expose_inputs(PccGcmcGroupWorkChain, namespace='pcc_gcmc', exclude=('clusters', 'output_group'))
        spec.expose_inputs(DftLabelingWorkChain, namespace='dft_labeling', exclude=('configurations', 'output_group'))
        spec.input('max_iterations', valid_type=orm.Int, default=lambda: orm.Int(3), help='Most exploration rounds.')
        spec.input('group_prefix', valid_type=orm.Str, default=lambda: orm.Str('otf-al'), help='Prefix of the group labels.')
        spec.inputs.validator = _validate_inputs
        spec.outline(
            cls.setup,
            while_(cls.not_done)(
                cls.train,
                cls.inspect_training,
                if_(cls.should_explore)(
                    cls.explore,
                    cls.inspect_exploration,
                    if_(cls.found_new)(cls.make_cells, cls.inspect_cells, cls.label, cls.inspect_labels),
                ),
            ),
            cls.results,
        )
        spec.output('potential', valid_type=orm.Data, help='The last model, trained on every labelled group.')
        spec.output('metrics', valid_type=orm.Dict, help="The last model's metrics.")
        spec.output('active_set', valid_type=orm.Data, help="Active set of the last model's training data, in its basis.")
        spec.output('summary', valid_type=orm.Dict, help='Per round: gamma_max per scenario, snapshots, clusters, cells, labels.')
        spec.exit_code(410, 'ERROR_TRAINING_FAILED', message='Training in round {iteration} failed: {message}')
        spec.exit_code(420, 'ERROR_ALL_MD_FAILED', message='No watched MD run of round {iteration} finished: {message}')

    def setup(self):
        self.ctx.groups = list(self.inputs.groups.get_list())
        self.ctx.iteration = 0
        self.ctx.done = False
        self.ctx.rounds = []
        self.ctx.converged = False
        loadings = self.inputs.get('loadings', {})
        self.ctx.watch = {name: _watch(self.inputs.md, loadings.get(name)) for name in self.inputs.structures}
        save_threshold = next(iter(self.ctx.watch.values()))['save_threshold']
        selection = {'threshold': save_threshold, **self.inputs.selection.get_dict()}
        self.ctx.selection = validate_selection_parameters(selection)

    def not_done(self):
        return not self.ctx.done

    def train(self):
        inputs = self.exposed_inputs(TrainingWorkChain, namespace='training')
        inputs['groups'] = orm.List(self.ctx.groups)
        inputs['parameters'] = orm.Dict({**inputs['parameters'].get_dict(), 'active_set': True})  # made by the job
        inputs['metadata'] = {'call_link_label': f'training_{self.ctx.iteration}'}
        self.report(f'round {self.ctx.iteration}: training on {", ".join(self.ctx.groups)}')
        return ToContext(training=self.submit(TrainingWorkChain, **inputs))

    def inspect_training(self):
        training = self.ctx.training
        if not training.is_finished_ok:
            message = process_failure(training)
            return self.exit_codes.ERROR_TRAINING_FAILED.format(iteration=self.ctx.iteration, message=message)
        self.ctx.active_set = training.outputs.active_set
        self.report(f'round {self.ctx.iteration}: active set of {self.ctx.active_set.size} rows in the model basis')

    def should_explore(self):
        if self.ctx.iteration < self.inputs.max_iterations.value:
            return True
        self.report(f'stopping after {self.ctx.iteration} rounds (max_iterations) with a model trained on all of them')
        self.ctx.done = True
        return False

    def explore(self):
        self.ctx.iteration += 1
        runs = {}
        for name, structure in sorted(self.inputs.structures.items()):
            runs[f'md__{name}'] = self.submit(
                GammaMdCalculation,
                code=self.inputs.md_code,
                structure=structure,
                potential=self.ctx.training.outputs.potential,
                active_set=self.ctx.active_set,
                parameters=orm.Dict(self.ctx.watch[name]),
                metadata={'call_link_label': f'md_{name}_iter{self.ctx.iteration}'},
            )
        self.report(f'round {self.ctx.iteration}: {len(runs)} watched MD runs with model {self.ctx.training.outputs.potential.pk}')
        return ToContext(**runs)

    def _label(self, scenario: str, kind: str = '') -> str:
        label = f'{self.inputs.group_prefix.value}-{scenario}-iter{self.ctx.iteration}'
        return f'{label}-{kind}' if kind else label

    def inspect_exploration(self):
        record = {'iteration': self.ctx.iteration, 'scenarios': {}}
        self.ctx.rounds.append(record)
        self.ctx.cluster_groups = {}
        failures = []
        for key in sorted(k for k in self.ctx if k.startswith('md__')):
            scenario, node = key[4:], self.ctx.pop(key)
            if not node.is_finished_ok:
                failures.append(f'{scenario}: {process_failure(node)}')
                self.report(f'watched MD of {scenario} failed, skipped: {failures[-1]}')
                continue
            summary = node.outputs.summary.get_dict()
            snapshots = [node.outputs.snapshots[k] for k in sorted(node.outputs.snapshots)] if 'snapshots' in node.outputs else []
            entry = {
                'md': node.uuid,
                'steps': summary['steps'],
                'gamma_max': max(summary['gamma_max'], default=0.0),
                'stopped': summary['stopped'],
                'snapshots': len(snapshots),
                'clusters': 0,
            }
            record['scenarios'][scenario] = entry
            if summary['stopped'] == 'lost_atoms':
                self.report(f'{scenario}: LAMMPS lost atoms at step {summary["steps"]}: the model extrapolates there')
            self.report(
                f'{scenario}: {summary["steps"]} steps, gamma_max {entry["gamma_max"]:.2f}, {len(snapshots)} snapshots saved'
                + (f', stopped ({summary["stopped"]})' if summary['stopped'] else '')
            )
            if not snapshots:
                continue
            update_extras({s.uuid: {'dg_scenario': scenario, 'dg_iteration': self.ctx.iteration} for s in snapshots})
            group, _ = orm.Group.collection.get_or_create(self._label(scenario, 'snapshots'))
            group.add_nodes(snapshots)
            outputs, _ = select_from_group(self.ctx.active_set, group.label, self.ctx.selection, self._label(scenario, 'clusters'))
            entry['clusters'] = sum(key.startswith('cluster_') for key in outputs)
            if entry['clusters']:
                self.ctx.cluster_groups[scenario] = self._label(scenario, 'clusters')
        if not record['scenarios']:
            return self.exit_codes.ERROR_ALL_MD_FAILED.format(iteration=self.ctx.iteration, message='; '.join(failures))
        if not self.ctx.cluster_groups:
            lost = [s for s, e in record['scenarios'].items() if e['stopped'] == 'lost_atoms']
            self.ctx.converged = not lost
            self.ctx.done = True
            self.report(
                f'round {self.ctx.iteration}: no new environment: converged'
                if not lost
                else f'round {self.ctx.iteration}: nothing to select, yet {", ".join(lost)} lost atoms: stopping unconverged'
            )
        return None

    def found_new(self):
        return bool(self.ctx.cluster_groups)

    def make_cells(self):
        inputs = self.exposed_inputs(PccGcmcGroupWorkChain, namespace='pcc_gcmc')
        futures = {}
        for scenario, clusters in self.ctx.cluster_groups.items():
            inputs.update(clusters=orm.Str(clusters), output_group=orm.Str(self._label(scenario)))
            inputs['metadata'] = {'call_link_label': f'pcc_gcmc_{scenario}_iter{self.ctx.iteration}'}
            futures[f'pcc__{scenario}'] = self.submit(PccGcmcGroupWorkChain, **inputs)
        return ToContext(**futures)

    def inspect_cells(self):
        self.ctx.cell_groups = {}
        record = self.ctx.rounds[-1]['scenarios']
        for key in sorted(k for k in self.ctx if k.startswith('pcc__')):
            scenario, node = key[5:], self.ctx.pop(key)
            if not node.is_finished_ok:
                self.report(f'{scenario}: no cluster became a periodic cell ({process_failure(node)}), skipped')
                continue
            group = orm.load_group(self._label(scenario))
            extras = {}
            for cell in group.nodes:
                snapshot = orm.load_node(orm.load_node(cell.base.extras.get('dg_cluster')).base.extras.get('dg_source'))
                extras[cell.uuid] = {
                    'dg_scenario': scenario,
                    'dg_iteration': self.ctx.iteration,
                    'dg_snapshot': snapshot.uuid,
                    'dg_step': snapshot.base.extras.get('dg_step'),
                }
            update_extras(extras)
            record[scenario]['cells'] = len(extras)
            self.ctx.cell_groups[scenario] = group.label

    def label(self):
        inputs = self.exposed_inputs(DftLabelingWorkChain, namespace='dft_labeling')
        futures = {}
        for scenario, label in self.ctx.cell_groups.items():
            inputs['configurations'] = orm.Str(label)
            inputs['metadata'] = {'call_link_label': f'dft_labeling_{scenario}_iter{self.ctx.iteration}'}
            futures[f'dft__{scenario}'] = self.submit(DftLabelingWorkChain, **inputs)
        return ToContext(**futures)

    def inspect_labels(self):
        record = self.ctx.rounds[-1]['scenarios']
        new = 0
        for key in sorted(k for k in self.ctx if k.startswith('dft__')):
            scenario, node = key[5:], self.ctx.pop(key)
            labelled = node.outputs.summary['labelled'] if 'summary' in node.outputs else {}
            record[scenario]['labelled'] = len(labelled)
            new += len(labelled)
            if labelled:
                self.ctx.groups.append(self.ctx.cell_groups[scenario])
            else:
                self.report(f'{scenario}: no cell of round {self.ctx.iteration} was labelled ({process_failure(node)})')
        self.report(f'round {self.ctx.iteration}: {new} new labelled configurations')
        if not new:
            self.report('nothing new was labelled: stopping with the last model')
            self.ctx.done = True

    def results(self):
        training = self.ctx.training
        self.out('potential', training.outputs.potential)
        self.out('metrics', training.outputs.metrics)
        self.out('active_set', self.ctx.active_set)
        summary = {'rounds': self.ctx.rounds, 'converged': self.ctx.converged, 'groups': self.ctx.groups}
        self.out('summary', workflow_summary(orm.Dict(summary)))
        state = 'converged' if self.ctx.converged else 'not converged'
        self.report(f'{state} after {self.ctx.iteration} rounds; final model {training.outputs.potential.pk}')
