"""``DftLabelingWorkChain``: DFT energies, forces and stresses for every configuration of a group.

One engine per run: GPAW (``GpawBaseWorkChain``, this package) or VASP (aiida-vasp's ``VaspWorkChain``,
used as it is); or, to try the machinery in minutes, ``reference``: a published potential standing in for
DFT (``ReferenceLabelsCalculation`` jobs of :data:`REFERENCE_CHUNK` configurations, engine
``reference:<potential>``), which never relabels
configurations that hold labels of another engine. Configurations are run ``max_concurrent`` at a time;
each success leaves a one-row labels table (ancestor: the DFT run) that the configuration points to
(extras ``dg_labels``, ``dg_labels_row``); each failure is recorded on the configuration (extra ``dg_label_failed``) and
reported, and the others go on. Configurations already labelled by the same engine with the same
settings are skipped; with AiiDA caching on, a repeated DFT run is not recomputed either.
"""

from __future__ import annotations

from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import ToContext, WorkChain, while_
from aiida.plugins import WorkflowFactory

from ..calculations.functions.dft_labels import vasp_labels
from ..calculations.functions.reference_labels import REFERENCE_ENGINE, reference_settings
from ..calculations.functions.summaries import workflow_summary
from ..calculations.reference_labels import ReferenceLabelsCalculation
from ..common.extras import update_extras
from ..core.dft.vasp_labels import single_point_incar
from ..core.jobs.gpaw_single_point import kpoint_mesh, merged_parameters
from ..data.genome import GenomeGroup
from ..data.labels import group_pointers, tables_by_uuid
from ..data.potential import InteratomicPotentialData
from ..protocols import protocol_file, read_protocol
from . import jobs_at_once, process_failure, set_options
from .gpaw_base import GpawBaseWorkChain, gpaw_parameters

__all__ = ('ENGINE_PLUGINS', 'DftLabelingWorkChain', 'engine_of', 'vasp_incar', 'vasp_kpoints')

VaspWorkChain = WorkflowFactory('vasp.vasp')
ENGINES = ('gpaw', 'vasp', 'reference')
#: Configurations per reference-labels calcfunction (MEAM-W: about 6 s for 100 of the W basic set).
REFERENCE_CHUNK = 100
#: aiida-vasp parser settings: TOTEN (the force-consistent energy) besides the extrapolated one.
VASP_PARSER_SETTINGS = {'parser_settings': {'energy_type': ['energy_free', 'energy_extrapolated']}}


def _validate_engine(engine, _):
    if engine.value not in ENGINES:
        return f'engine must be one of {", ".join(ENGINES)}, not `{engine.value}`'


def _validate_inputs(inputs, _):
    engine = inputs['engine'].value if 'engine' in inputs else None
    if engine == 'reference' and ('reference_potential' not in inputs or 'reference_code' not in inputs):
        return 'engine `reference` needs `reference_potential` (the potential standing in for DFT) and `reference_code`'
    if engine == 'gpaw' and 'code' not in inputs.get('gpaw', {}).get('gpaw', {}):
        return 'engine `gpaw` needs `gpaw.gpaw.code` (a GPAW `gpaw` code)'
    if engine == 'vasp':
        vasp = inputs.get('vasp', {})
        missing = [key for key in ('code', 'parameters', 'potential_family', 'potential_mapping') if key not in vasp]
        if missing:
            return f'engine `vasp` needs vasp.{", vasp.".join(missing)}'
        if 'kpoint_spacing' not in inputs:
            return 'engine `vasp` needs `kpoint_spacing` (1/A in units of 2 pi) for its KPOINTS'


class DftLabelingWorkChain(WorkChain):
    """Label a group of configurations with DFT (GPAW or VASP), a bounded number at a time."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('configurations', valid_type=orm.Str, help='Label of the group of StructureData to label.')
        spec.input('engine', valid_type=orm.Str, validator=_validate_engine, help='`gpaw`, `vasp` or `reference`.')
        spec.input(
            'reference_potential',
            valid_type=InteratomicPotentialData,
            required=False,
            help='Engine `reference`: the published potential that stands in for DFT.',
        )
        spec.input(
            'reference_code',
            valid_type=orm.AbstractCode,
            required=False,
            help='Engine `reference`: the Python (this package installed) that runs the labelling jobs.',
        )
        spec.input('kpoint_spacing', valid_type=orm.Float, required=False, help='VASP KPOINTS spacing, 1/A in units of 2 pi.')
        spec.input('output_group', valid_type=orm.Str, required=False, help='Group that receives the labelled configurations.')
        spec.input(
            'max_concurrent',
            valid_type=orm.Int,
            required=False,
            help='DFT runs at a time; default: the cores of a computer without a queue, else 50 (`jobs_at_once`).',
        )
        spec.expose_inputs(
            GpawBaseWorkChain,
            namespace='gpaw',
            exclude=('gpaw.structure',),
            namespace_options={'required': False, 'populate_defaults': False},
        )
        spec.expose_inputs(
            VaspWorkChain,
            namespace='vasp',
            exclude=('structure', 'kpoints'),
            namespace_options={'required': False, 'populate_defaults': False},
        )
        spec.inputs.validator = _validate_inputs
        spec.output('summary', valid_type=orm.Dict, help='Counts and, per configuration, its labels table or its failure.')
        spec.outline(cls.setup, while_(cls.has_pending)(cls.submit_batch, cls.inspect_batch), cls.results)
        spec.exit_code(201, 'ERROR_NO_CONFIGURATIONS', message='{message}')
        spec.exit_code(410, 'ERROR_ALL_FAILED', message='No configuration could be labelled: {message}')

    def setup(self):
        try:
            group = orm.load_group(self.inputs.configurations.value)
        except Exception as exc:
            return self.exit_codes.ERROR_NO_CONFIGURATIONS.format(message=f'group `{self.inputs.configurations.value}`: {exc}')
        members = group_pointers(group)
        if not members:
            return self.exit_codes.ERROR_NO_CONFIGURATIONS.format(message=f'group `{group.label}` holds no StructureData')
        self.ctx.engine = self.inputs.engine.value
        self.ctx.settings = self._settings()
        self.ctx.pending, self.ctx.done, self.ctx.summary = [], [], {'labelled': {}, 'failed': {}, 'skipped': {}}
        tables = tables_by_uuid({uuid for _, uuid, _, _ in members} - {None})  # a pointer to a deleted table: unlabelled
        for structure, uuid, _, _ in members:
            table = tables.get(uuid)
            engine = table.base.attributes.get('engine', '') if table is not None else ''
            if self.ctx.engine == 'reference' and table is not None and not engine.startswith(f'{REFERENCE_ENGINE}:'):
                message = f'holds {engine} labels: a reference potential never relabels them (label a copy)'
                self.ctx.summary['failed'][structure.uuid] = message
                self.report(f'configuration {structure.pk} {message}')
                continue
            if table is not None and table.base.attributes.get('settings', None) == self.ctx.settings:
                self.ctx.summary['skipped'][structure.uuid] = table.uuid
                self.ctx.done.append(structure.pk)
            else:
                self.ctx.pending.append(structure.pk)
        self.report(
            f'{len(members)} configurations in `{group.label}`: {len(self.ctx.pending)} to label with {self.ctx.engine}, '
            f'{len(self.ctx.summary["skipped"])} already labelled with these settings.'
        )

    def _settings(self) -> dict:
        """What makes two labels comparable: the engine's parameters (GPAW), INCAR and k-point spacing (VASP), or
        the reference potential."""
        if self.ctx.engine == 'reference':
            return reference_settings(self.inputs.reference_potential)
        if self.ctx.engine == 'gpaw':
            parameters = self.inputs.gpaw.gpaw.parameters.get_dict() if 'parameters' in self.inputs.gpaw.gpaw else {}
            return merged_parameters(parameters)
        return {
            'incar': self.inputs.vasp.parameters.get_dict().get('incar', {}),
            'kpoint_spacing': self.inputs.kpoint_spacing.value,
        }

    def has_pending(self):
        return bool(self.ctx.pending)

    def _code(self):
        return self.inputs.gpaw.gpaw.code if self.ctx.engine == 'gpaw' else self.inputs.vasp.code

    def submit_batch(self):
        if self.ctx.engine == 'reference':
            return self._label_with_reference()
        size = jobs_at_once(self._code(), self.inputs.get('max_concurrent'))
        batch, self.ctx.pending = self.ctx.pending[:size], self.ctx.pending[size:]
        futures = {}
        for pk in batch:
            structure = orm.load_node(pk)
            if self.ctx.engine == 'gpaw':
                inputs = self.exposed_inputs(GpawBaseWorkChain, 'gpaw')
                inputs['gpaw']['structure'] = structure
                process = GpawBaseWorkChain
            else:
                inputs = self.exposed_inputs(VaspWorkChain, 'vasp')
                inputs['structure'] = structure
                inputs['kpoints'] = vasp_kpoints(structure, self.inputs.kpoint_spacing.value)
                process = VaspWorkChain
            inputs['metadata'] = {'call_link_label': f'label_{pk}'}
            futures[f'dft_{pk}'] = self.submit(process, **inputs)
        self.report(f'submitted {len(batch)} {self.ctx.engine} runs; {len(self.ctx.pending)} waiting.')
        return ToContext(**futures)

    def _label_with_reference(self):
        """Submit one ``ReferenceLabelsCalculation`` per :data:`REFERENCE_CHUNK` pending configurations, as many at
        once as the code's computer takes (a job that fails costs its chunk, not the group)."""
        code, potential = self.inputs.reference_code, self.inputs.reference_potential
        futures = {}
        for _ in range(jobs_at_once(code, self.inputs.get('max_concurrent'))):
            chunk, self.ctx.pending = self.ctx.pending[:REFERENCE_CHUNK], self.ctx.pending[REFERENCE_CHUNK:]
            if not chunk:
                break
            inputs = {
                'code': code,
                'potential': potential,
                'structures': {f's{pk}': orm.load_node(pk) for pk in chunk},
                'metadata': {'call_link_label': f'reference_{chunk[0]}'},
            }
            futures[f'reference_{chunk[0]}'] = self.submit(ReferenceLabelsCalculation, **inputs)
        self.report(
            f'submitted {len(futures)} jobs of the reference potential {potential.name} (not DFT); '
            f'{len(self.ctx.pending)} configurations waiting'
        )
        return ToContext(**futures)

    def _inspect_reference(self, node) -> None:
        """Point every configuration of a finished reference job to its row, or record the job's failure."""
        structures = {
            link.link_label.split('__', 1)[1]: link.node
            for link in node.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all()
            if link.link_label.startswith('structures__')
        }
        if not node.is_finished_ok:
            message = _failure(node)
            for structure in structures.values():
                self.ctx.summary['failed'][structure.uuid] = message
            self.report(f'{len(structures)} configurations not labelled by the reference potential: {message}')
            return
        table = node.outputs.labels
        pointers = {structures[key].uuid: _pointer(structures[key], table, row) for row, key in enumerate(sorted(structures))}
        update_extras(pointers)  # one transaction for all of them
        self.ctx.summary['labelled'].update({uuid: table.uuid for uuid in pointers})
        self.ctx.done.extend(structure.pk for structure in structures.values())

    def inspect_batch(self):
        for key in [k for k in self.ctx if k.startswith('reference_')]:
            self._inspect_reference(self.ctx.pop(key))
        for key in [k for k in self.ctx if k.startswith('dft_')]:
            node = self.ctx.pop(key)
            structure = orm.load_node(int(key.split('_')[1]))
            table = self._labels_of(node) if node.is_finished_ok else None
            if table is None:
                message = _failure(node)
                structure.base.extras.set('dg_label_failed', {'engine': self.ctx.engine, 'process': node.pk, 'message': message})
                self.ctx.summary['failed'][structure.uuid] = message
                self.report(f'configuration {structure.pk} not labelled, skipped: {message}')
                continue
            structure.base.extras.set_many(_pointer(structure, table, 0))
            if 'dg_label_failed' in structure.base.extras.keys():
                structure.base.extras.delete('dg_label_failed')
            self.ctx.summary['labelled'][structure.uuid] = table.uuid
            self.ctx.done.append(structure.pk)

    def _labels_of(self, node) -> orm.ArrayData | None:
        if self.ctx.engine == 'gpaw':
            return node.outputs.labels
        try:
            return vasp_labels(node.outputs.misc, orm.Dict(self.ctx.settings))
        except Exception as exc:  # a run that parsed without forces or TOTEN: recorded as a failure
            self.report(f'{node.process_label}<{node.pk}> gave no usable labels: {exc}')
            return None

    def results(self):
        summary = self.ctx.summary
        counts = {name: len(summary[name]) for name in ('labelled', 'failed', 'skipped')}
        if 'output_group' in self.inputs:
            group, _ = GenomeGroup.collection.get_or_create(self.inputs.output_group.value)
            group.add_nodes([orm.load_node(pk) for pk in self.ctx.done])
        self.out('summary', workflow_summary(orm.Dict({**counts, **summary, 'engine': self.ctx.engine})))
        self.report(f'labelled {counts["labelled"]}, skipped {counts["skipped"]} (already labelled), failed {counts["failed"]}.')
        if counts['failed'] and not counts['labelled'] and not counts['skipped']:
            return self.exit_codes.ERROR_ALL_FAILED.format(message=next(iter(summary['failed'].values())))

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode,
        configurations: str,
        *,
        protocol: str | None = None,
        overrides: dict | None = None,
        options: dict | None = None,
        engine: str | None = None,
        potential_family: str | None = None,
        potential_mapping: dict | None = None,
        reference_potential: InteratomicPotentialData | None = None,
    ):
        """Return a builder labelling group ``configurations`` with ``code`` and the settings of ``protocol``
        (``fast``, ``moderate``, ``precise``).

        :param overrides: GPAW parameters (``gpaw``) or INCAR keys (``vasp``) that replace the protocol's.
        :param options: ``metadata.options`` of every DFT job (resources, walltime, ``withmpi``).
        :param engine: ``gpaw`` or ``vasp``; default: the one of the code's plugin.
        :param potential_family: VASP only: the POTCAR family uploaded with ``aiida-vasp potcar uploadfamily``.
        :param potential_mapping: VASP only: element -> POTCAR name (default: each element's own name).
        :param reference_potential: label with this potential instead of DFT (engine ``reference``; ``code`` is
            then the Python with this package that runs its jobs; protocol and overrides do not apply).
        """
        if reference_potential is not None:
            builder = cls.get_builder()
            builder.configurations, builder.engine = orm.Str(configurations), orm.Str('reference')
            builder.reference_potential, builder.reference_code = reference_potential, code
            return builder
        engine = engine_of(code, engine)
        _, settings = read_protocol('dft_labeling', protocol)
        builder = cls.get_builder()
        builder.configurations = orm.Str(configurations)
        builder.engine = orm.Str(engine)
        if engine == 'gpaw':
            builder.gpaw.gpaw.code = code
            builder.gpaw.gpaw.parameters = orm.Dict(gpaw_parameters(protocol, overrides))
            set_options(builder.gpaw.gpaw.metadata.options, options)
            return builder
        if not potential_family:
            raise ValueError('engine `vasp` needs potential_family (the POTCAR family name)')
        elements = sorted({kind for node in orm.load_group(configurations).nodes for kind in node.get_kind_names()})
        builder.kpoint_spacing = orm.Float(settings['kpoint_spacing'])
        builder.vasp.code = code
        builder.vasp.parameters = orm.Dict({'incar': vasp_incar(protocol, overrides)})
        try:
            builder.vasp.potential_family = orm.Str(potential_family)
        except Exception as exc:  # aiida-vasp checks that the family exists
            raise ValueError(
                f'POTCAR family `{potential_family}` not found ({exc}); upload it with '
                '`aiida-vasp potcar uploadfamily --path <POTCARs> --name <family>`'
            ) from exc
        builder.vasp.potential_mapping = orm.Dict(potential_mapping or {element: element for element in elements})
        builder.vasp.settings = orm.Dict(VASP_PARSER_SETTINGS)
        set_options(builder.vasp.calc.metadata.options, options)
        return builder


#: The DFT engines and the plugin of the codes that run them.
ENGINE_PLUGINS = {'gpaw': 'defectgenome.gpaw', 'vasp': 'vasp.vasp'}


def engine_of(code: orm.AbstractCode, engine: str | None = None) -> str:
    """The DFT engine ``code`` runs (``gpaw`` or ``vasp``, by its default plugin), or ``engine`` when the code
    names no plugin of either; ValueError when they disagree or neither says."""
    plugin = code.default_calc_job_plugin or ''
    found = next((name for name, engine_plugin in ENGINE_PLUGINS.items() if plugin == engine_plugin), None)
    if engine is not None and engine not in ENGINE_PLUGINS:
        raise ValueError(f'engine must be gpaw or vasp, not `{engine}` (reference labels need no code)')
    if found and engine and engine != found:
        raise ValueError(f'engine {engine}, but code `{code.full_label}` runs `{plugin}` ({found})')
    if not (found or engine):
        raise ValueError(f'code `{code.full_label}` runs `{plugin or "no plugin"}`, not GPAW or VASP: say which engine it is')
    return found or engine


def vasp_incar(protocol: str | None = None, overrides: dict | None = None) -> dict:
    """Return the INCAR (aiida-vasp's lower-case keys) of a labelling single point with ``protocol``."""
    _, settings = read_protocol('dft_labeling', protocol)
    return single_point_incar(settings['vasp'], protocol_file('dft_labeling')['vasp_single_point'], overrides)


def _failure(node) -> str:
    """What went wrong in ``node``: its own exit message and that of its last failed calculation."""
    message = process_failure(node)
    failed = [n for n in node.called_descendants if isinstance(n, orm.CalcJobNode) and not n.is_finished_ok]
    if failed:
        last = max(failed, key=lambda n: n.ctime)
        message += f'; {last.process_label}<{last.pk}> exit {last.exit_status}: {last.exit_message}'
    return message


def _pointer(structure: orm.StructureData, table: orm.ArrayData, row: int) -> dict:
    """The extras that point ``structure`` at row ``row`` of ``table``; an earlier pointer is kept in
    ``dg_labels_history`` (nothing stored is lost)."""
    extras = {'dg_labels': table.uuid, 'dg_labels_row': row}
    previous = structure.base.extras.get('dg_labels', None)
    if previous and previous != table.uuid:
        extras['dg_labels_history'] = structure.base.extras.get('dg_labels_history', []) + [previous]
    return extras


def vasp_kpoints(structure: orm.StructureData, spacing: float) -> orm.KpointsData:
    """Return the Monkhorst-Pack KPOINTS of ``structure`` for ``spacing`` (1/A in units of 2 pi), the GPAW rule."""
    kpoints = orm.KpointsData()
    kpoints.set_cell_from_structure(structure)
    kpoints.set_kpoints_mesh(kpoint_mesh(structure.cell, structure.pbc, spacing))
    return kpoints
