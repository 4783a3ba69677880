"""``TrainingWorkChain``: an MLIP (and optionally an ensemble) trained on one or more genome groups.

The labelled members of the groups become one training file (calcfunction ``training_set``, whose
inputs are the configurations and their labels tables, so the model's ancestry reaches every DFT run
that labelled its data); the training job fits the model and scores it per group. Configurations
without labels are left out and reported. The built-in trainer is SNAP (``trainer='snap'``).
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, WorkChain

from ..calculations.functions.training_set import training_set
from ..calculations.training import SnapTrainingCalculation
from ..core.training_job import validate_settings
from ..data.genome import GenomeGroup
from ..protocols import read_protocol
from ..tools.labels import labels_of

__all__ = ('TRAINERS', 'TrainingWorkChain')

TRAINERS = ('snap',)
_PROTOCOL_KEYS = ('basis', 'weights', 'test_fraction', 'seed', 'learning_curve')


def _validate_trainer(trainer, _):
    if trainer.value not in TRAINERS:
        return f'trainer must be one of {", ".join(TRAINERS)}, not `{trainer.value}`'


def _validate_parameters(parameters, _):
    try:
        validate_settings(parameters.get_dict(), need_species=False)
    except ValueError as exc:
        return str(exc)


def _validate_groups(groups, _):
    labels = groups.get_list()
    if not labels or not all(isinstance(label, str) for label in labels):
        return 'give at least one genome group label'


class TrainingWorkChain(WorkChain):
    """Collect labelled configurations from genome groups, train, and expose the model and its metrics."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('groups', valid_type=orm.List, validator=_validate_groups, help='Labels of the genome groups to train on.')
        spec.input('trainer', valid_type=orm.Str, default=lambda: orm.Str('snap'), validator=_validate_trainer)
        spec.input('group_weights', valid_type=orm.Dict, required=False, help='`{group label: weight}` (default 1 each).')
        spec.expose_inputs(SnapTrainingCalculation, namespace='snap', exclude=('training_set', 'parameters'))
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            validator=_validate_parameters,
            help="Training settings (see `core.training_job.validate_settings`); species default to the data's.",
        )
        spec.outline(cls.collect, cls.train, cls.results)
        spec.expose_outputs(SnapTrainingCalculation)
        spec.output('training_set', valid_type=orm.SinglefileData, help='The labelled frames the model was trained on.')
        spec.exit_code(400, 'ERROR_NO_GROUP', message='Genome group `{label}` does not exist.')
        spec.exit_code(401, 'ERROR_NO_LABELLED_DATA', message='The groups hold no labelled configuration: label them first.')
        spec.exit_code(402, 'ERROR_BAD_GROUP_WEIGHTS', message='{message}')
        spec.exit_code(410, 'ERROR_TRAINING_FAILED', message='The training job failed: {message}')

    def collect(self):
        """Gather the labelled members of every group into one training file."""
        weights = self.inputs.group_weights.get_dict() if 'group_weights' in self.inputs else {}
        labels = self.inputs.groups.get_list()
        unknown = sorted(set(weights) - set(labels))
        if unknown:
            return self.exit_codes.ERROR_BAD_GROUP_WEIGHTS.format(
                message=f'weights for groups not trained on: {", ".join(unknown)}'
            )
        structures, tables, assignment, species = {}, {}, {}, set()
        for label in labels:
            try:
                group = GenomeGroup.collection.get(label=label)
            except Exception:  # NotExistent, or a plain Group of another type
                return self.exit_codes.ERROR_NO_GROUP.format(label=label)
            members = [node for node in group.nodes if isinstance(node, orm.StructureData)]
            skipped = 0
            for structure, (labels_row, _) in zip(members, labels_of(members)):
                if labels_row is None:
                    skipped += 1
                    continue
                table = orm.load_node(structure.base.extras.get('dg_labels'))
                key, table_key = f's{structure.pk}', f't{table.pk}'
                structures[key], tables[table_key] = structure, table
                assignment[key] = {'group': label, 'labels': table_key, 'row': structure.base.extras.get('dg_labels_row')}
                species.update(structure.get_kind_names())
            self.report(
                f'group `{label}`: {len(members) - skipped} labelled configurations'
                + (f', {skipped} unlabelled left out' if skipped else '')
            )
        if not assignment:
            return self.exit_codes.ERROR_NO_LABELLED_DATA
        self.ctx.species = sorted(species)
        self.ctx.training_set = training_set(assignment=orm.Dict(assignment), structures=structures, labels=tables)
        self.out('training_set', self.ctx.training_set)

    def train(self):
        inputs = self.exposed_inputs(SnapTrainingCalculation, namespace='snap')
        parameters = self.inputs.parameters.get_dict()
        parameters['species'] = parameters.get('species') or self.ctx.species
        if 'group_weights' in self.inputs:
            parameters['group_weights'] = self.inputs.group_weights.get_dict()
        inputs.update(training_set=self.ctx.training_set, parameters=orm.Dict(parameters))
        inputs.setdefault('metadata', {})['call_link_label'] = 'snap_training'
        return ToContext(calculation=self.submit(SnapTrainingCalculation, **inputs))

    def results(self):
        calculation = self.ctx.calculation
        if not calculation.is_finished_ok:
            return self.exit_codes.ERROR_TRAINING_FAILED.format(
                message=f'{calculation.process_label}<{calculation.pk}> exit {calculation.exit_status}'
            )
        self.out_many(self.exposed_outputs(calculation, SnapTrainingCalculation))
        test, train = calculation.outputs.metrics['test'], calculation.outputs.metrics['train']
        self.report(
            f'model {calculation.outputs.potential.label}: train {train["energy_rmse_mev_per_atom"]:.2f} meV/atom, '
            f'{train["force_rmse_mev_per_a"]:.1f} meV/A; test '
            + (
                f'{test["energy_rmse_mev_per_atom"]:.2f} meV/atom, {test["force_rmse_mev_per_a"]:.1f} meV/A'
                if test['configurations']
                else 'none'
            )
        )

    @classmethod
    def get_builder_from_protocol(
        cls, code, groups, protocol=None, group_weights=None, ensemble: int = 0, overrides: dict | None = None, options=None
    ):
        """Return a builder for training on ``groups`` (labels) with a protocol of ``training.yaml``.

        :param ensemble: extra bootstrap models for the force spread (0: none; the paper uses 5).
        :param overrides: settings replacing the protocol's (e.g. ``{'basis': {'twojmax': 8}}``).
        """
        _, values = read_protocol('training', protocol)
        parameters = {key: values[key] for key in _PROTOCOL_KEYS if key in values}
        for key, value in (overrides or {}).items():
            parameters[key] = {**parameters.get(key, {}), **value} if isinstance(value, dict) else value
        if ensemble:
            parameters['ensemble'] = ensemble
        builder = cls.get_builder()
        builder.groups = orm.List(list(groups))
        if group_weights:
            builder.group_weights = orm.Dict(dict(group_weights))
        builder.snap.code = code
        builder.parameters = orm.Dict(parameters)
        if options:
            builder.snap.metadata.options = options
        return builder
