"""``TrainingWorkChain``: an MLIP (and optionally an ensemble) trained on one or more genome groups.

The labelled members of the groups become one training file: calcfunction ``training_set`` on chunks of
:data:`TRAINING_SET_CHUNK` configurations, whose inputs are the configurations and their labels tables (so
the model's ancestry reaches every DFT run that labelled its data), and ``joined_training_set`` of the chunks.
The training job fits the model and scores it per group. Configurations without labels are left out and
reported. The built-in trainer is SNAP (``trainer='snap'``, namespace ``snap``: a Python code);
``trainer='pace'`` fits ACE with pacemaker (namespace ``pace``: a ``pacemaker`` code), ``trainer='mtp'`` an
MTP with MLIP-3 (namespace ``mtp``: an ``mlp`` code). All give ``potential``, ``metrics`` and
``parity_plot``; ensembles and learning curves are SNAP's.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, WorkChain

from ..calculations.functions.reference_labels import REFERENCE_ENGINE
from ..calculations.functions.training_set import TRAINING_SET_CHUNK, joined_training_set, training_set
from ..calculations.mtp import MtpTrainingCalculation
from ..calculations.pace import PaceTrainingCalculation
from ..calculations.training import SnapTrainingCalculation
from ..core.jobs.training_job import validate_settings
from ..core.mlip.mtp_files import validate_mtp_settings
from ..core.mlip.pace_files import pacemaker_input
from ..data.labels import group_pointers, tables_by_uuid
from ..protocols import merge_overrides, read_protocol
from . import process_failure, set_options

__all__ = ('TRAINERS', 'TrainingWorkChain')

TRAINERS = {'snap': SnapTrainingCalculation, 'pace': PaceTrainingCalculation, 'mtp': MtpTrainingCalculation}
_SNAP_KEYS = ('basis', 'weights', 'test_fraction', 'seed', 'learning_curve')
_OPTIONAL = {'required': False, 'populate_defaults': False}
_OUTPUTS = ('potential', 'metrics', 'parity_plot', 'learning_curve_plot', 'active_set')


def _validate_trainer(trainer, _):
    if trainer.value not in TRAINERS:
        return f'trainer must be one of {", ".join(TRAINERS)}, not `{trainer.value}`'


def _validate_groups(groups, _):
    labels = groups.get_list()
    if not labels or not all(isinstance(label, str) for label in labels):
        return 'give at least one genome group label'


def _validate_inputs(inputs, _):
    trainer = inputs['trainer'].value if 'trainer' in inputs else 'snap'
    if trainer not in TRAINERS:
        return None  # the port's own validator says so
    if 'code' not in inputs.get(trainer, {}):
        return f'trainer `{trainer}` needs `{trainer}.code`'
    values = inputs['parameters'].get_dict() if 'parameters' in inputs else {}
    try:
        if trainer == 'snap':
            validate_settings(values, need_species=False)
        elif trainer == 'mtp':
            validate_mtp_settings({k: v for k, v in values.items() if k != 'elements'})
        else:
            pacemaker_input(values.get('elements') or ['W'], {k: v for k, v in values.items() if k != 'elements'})
    except ValueError as exc:
        return str(exc)


class TrainingWorkChain(WorkChain):
    """Collect labelled configurations from genome groups, train, and expose the model and its metrics."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('groups', valid_type=orm.List, validator=_validate_groups, help='Labels of the genome groups to train on.')
        spec.input('trainer', valid_type=orm.Str, default=lambda: orm.Str('snap'), validator=_validate_trainer)
        spec.input('group_weights', valid_type=orm.Dict, required=False, help='`{group label: weight}` (default 1 each).')
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            help='Settings of the trainer (snap: `core.jobs.training_job.validate_settings`; pace: keys of '
            "`core.mlip.pace_files.PACE_DEFAULTS`); the elements default to the data's.",
        )
        for name, process in TRAINERS.items():
            spec.expose_inputs(process, namespace=name, exclude=('training_set', 'parameters'), namespace_options=_OPTIONAL)
        spec.inputs.validator = _validate_inputs
        spec.outline(cls.collect, cls.train, cls.results)
        spec.output('potential', valid_type=orm.Data, help='The trained potential, ready for LAMMPS.')
        spec.output('metrics', valid_type=orm.Dict, help='Energy (meV/atom) and force (meV/A) errors per split (and group).')
        spec.output('parity_plot', valid_type=orm.SinglefileData, help='Energy and force parity plots (PNG).')
        spec.output('learning_curve_plot', valid_type=orm.SinglefileData, required=False, help='SNAP: test RMSE vs data.')
        spec.output_namespace('ensemble', valid_type=orm.Data, dynamic=True, help='SNAP: the bootstrap members.')
        spec.output(
            'active_set',
            valid_type=orm.Data,
            required=False,
            help='SNAP with `active_set: true`: the active set of the training atoms in the model basis.',
        )
        spec.output('training_set', valid_type=orm.SinglefileData, help='The labelled frames the model was trained on.')
        spec.exit_code(201, 'ERROR_NO_GROUP', message='Genome group `{label}` does not exist.')
        spec.exit_code(202, 'ERROR_NO_LABELLED_DATA', message='The groups hold no labelled configuration: label them first.')
        spec.exit_code(203, 'ERROR_BAD_GROUP_WEIGHTS', message='{message}')
        spec.exit_code(
            204,
            'ERROR_MIXED_REFERENCE_LABELS',
            message='Labels of a reference potential ({reference}) are never trained on with others ({others}).',
        )
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
                group = orm.load_group(label)
            except Exception:  # NotExistent
                return self.exit_codes.ERROR_NO_GROUP.format(label=label)
            members = group_pointers(group)
            found, skipped = tables_by_uuid({uuid for _, uuid, _, _ in members} - {None}), 0
            for structure, uuid, row, elements in members:
                table = found.get(uuid)
                if table is None:
                    skipped += 1
                    continue
                key, table_key = f's{structure.pk}', f't{table.pk}'
                structures[key], tables[table_key] = structure, table
                assignment[key] = {'group': label, 'labels': table_key, 'row': row}
                species.update(elements)
            self.report(
                f'group `{label}`: {len(members) - skipped} labelled configurations'
                + (f', {skipped} unlabelled left out' if skipped else '')
            )
        if not assignment:
            return self.exit_codes.ERROR_NO_LABELLED_DATA
        engines = {table.base.attributes.get('engine', 'unknown') for table in tables.values()}
        reference = {engine for engine in engines if engine.startswith(f'{REFERENCE_ENGINE}:')}
        if reference and engines - reference:
            return self.exit_codes.ERROR_MIXED_REFERENCE_LABELS.format(
                reference=', '.join(sorted(reference)), others=', '.join(sorted(engines - reference))
            )
        self.ctx.species = sorted(species)
        keys, parts = list(assignment), {}
        for start in range(0, len(keys), TRAINING_SET_CHUNK):
            chunk = {key: assignment[key] for key in keys[start : start + TRAINING_SET_CHUNK]}
            parts[f'part_{start // TRAINING_SET_CHUNK:04d}'] = training_set(
                assignment=orm.Dict(chunk),
                structures={key: structures[key] for key in chunk},
                labels={entry['labels']: tables[entry['labels']] for entry in chunk.values()},
            )
        self.ctx.training_set = parts.popitem()[1] if len(parts) == 1 else joined_training_set(**parts)
        self.out('training_set', self.ctx.training_set)

    def train(self):
        trainer = self.inputs.trainer.value
        process = TRAINERS[trainer]
        inputs = self.exposed_inputs(process, namespace=trainer)
        parameters = self.inputs.parameters.get_dict()
        weights = self.inputs.group_weights.get_dict() if 'group_weights' in self.inputs else {}
        if trainer == 'snap':
            parameters['species'] = parameters.get('species') or self.ctx.species
            parameters['group_weights'] = weights
        else:
            parameters['elements'] = parameters.get('elements') or self.ctx.species
            if weights:
                self.report(f'{trainer} gets no group weights: every configuration weighs the same')
        inputs.update(training_set=self.ctx.training_set, parameters=orm.Dict(parameters))
        inputs.setdefault('metadata', {})['call_link_label'] = f'{trainer}_training'
        return ToContext(calculation=self.submit(process, **inputs))

    def results(self):
        calculation = self.ctx.calculation
        if not calculation.is_finished_ok:
            return self.exit_codes.ERROR_TRAINING_FAILED.format(message=process_failure(calculation))
        for label in _OUTPUTS:
            if label in calculation.outputs:
                self.out(label, calculation.outputs[label])
        if 'ensemble' in calculation.outputs:
            self.out('ensemble', dict(calculation.outputs.ensemble))
        metrics = calculation.outputs.metrics.get_dict()
        scores = [
            f'{split} {values["energy_rmse_mev_per_atom"]:.2f} meV/atom, {values["force_rmse_mev_per_a"]:.1f} meV/A'
            for split, values in metrics.items()
            if split in ('train', 'test') and values.get('configurations')
        ]
        self.report(f'model {calculation.outputs.potential.label}: {"; ".join(scores)}')

    @classmethod
    def get_builder_from_protocol(
        cls,
        code,
        groups,
        *,
        protocol=None,
        overrides: dict | None = None,
        options=None,
        trainer: str = 'snap',
        group_weights=None,
        ensemble: int = 0,
    ):
        """Return a builder for training on ``groups`` (labels) with a protocol of ``training.yaml``.

        :param code: a Python code (snap), a ``pacemaker`` code (pace) or an MLIP-3 ``mlp`` code (mtp).
        :param overrides: settings replacing the protocol's (e.g. ``{'basis': {'twojmax': 8}}``).
        :param options: ``metadata.options`` of the training job.
        :param ensemble: extra bootstrap models for the force spread (snap; 0: none; the paper uses 5).
        """
        if trainer not in TRAINERS:
            raise ValueError(f'trainer must be one of {", ".join(TRAINERS)}, not `{trainer}`')
        if ensemble and trainer != 'snap':
            raise ValueError('ensembles are trained by the built-in SNAP trainer only')
        _, values = read_protocol('training', protocol)
        defaults = {key: values[key] for key in _SNAP_KEYS if key in values} if trainer == 'snap' else values.get(trainer, {})
        parameters = merge_overrides(defaults, overrides)
        if ensemble:
            parameters['ensemble'] = ensemble
        builder = cls.get_builder()
        builder.groups = orm.List(list(groups))
        builder.trainer = orm.Str(trainer)
        if group_weights:
            builder.group_weights = orm.Dict(dict(group_weights))
        builder[trainer].code = code
        builder.parameters = orm.Dict(parameters)
        set_options(builder[trainer].metadata.options, options)
        return builder
