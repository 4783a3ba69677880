"""``DefectGenomeWorkChain``: the whole campaign, from EIP runs to an MLIP trained on a defect genome.

basic set -> ``EipSamplingWorkChain`` (clusters) -> ``PccGcmcGroupWorkChain`` (periodic cells) ->
``DftLabelingWorkChain`` -> ``ActiveLearningWorkChain`` (which trains the first model on the basic set
and the cells, then explores, cuts, labels and retrains). With ``label_clusters`` the vacuum-padded
clusters (the paper's "C" set) are labelled too, in their own group, for comparison; they are not
trained on. Groups are named ``<prefix>/eip-clusters``, ``<prefix>/eip-clusters-padded``,
``<prefix>/pcc-gcmc`` and ``<prefix>/otf-al-<scenario>-iter<k>``. With ``dft_labeling.engine`` ``reference``
a published potential stands in for DFT (to try the machinery in minutes): the basic set is copied into
``<prefix>/basic-reference`` and labelled by it too, so that the campaign trains on reference labels only
and the DFT labels of the basic set stay untouched. A stage that gives nothing (no cluster
above the threshold, no valid cell, no label) is reported, and active learning starts from what there is.
"""

from __future__ import annotations

import time

from aiida import orm
from aiida.engine import ToContext, WorkChain, calcfunction, if_
from aiida.engine.processes.builder import ProcessBuilderNamespace

from ..calculations.functions.reference_labels import copied_configurations
from ..calculations.functions.summaries import workflow_summary
from ..common.structures import atoms_from_structure, structure_from_atoms
from ..core.doptimality.clusters import pad_with_vacuum
from ..core.lammps.sampling_plan import plan_runs
from ..core.structures.scenarios import vacancy_cluster
from ..data.active_set import ActiveSetData
from ..data.genome import GenomeGroup
from ..data.potential_registry import ground_state_lattice, load_potential
from ..protocols import merge_overrides, read_protocol
from ..services.d_optimality import DEFAULT_DESCRIPTOR, active_set_for_group
from . import port_name, process_failure
from .active_learning import ActiveLearningWorkChain
from .dft_labeling import DftLabelingWorkChain
from .eip_sampling import EipSamplingWorkChain
from .pcc_gcmc import PccGcmcGroupWorkChain, protocol_parameters
from .training import TrainingWorkChain

__all__ = ('DefectGenomeWorkChain',)

_SHARED = ('groups', 'training', 'pcc_gcmc', 'dft_labeling', 'group_prefix')
#: Kinds of job whose ``metadata.options`` the campaign builder takes (``options={'dft': {...}}``).
CAMPAIGN_OPTIONS = ('lammps', 'dft', 'training')
#: Campaign settings whose keys the user names (structures) or the stage checks (its overrides, selection, MD).
OPEN_OVERRIDES = (
    'eip_sampling.overrides',
    'eip_sampling.selection',
    'pcc_gcmc.overrides',
    'dft_labeling.overrides',
    'active_learning.structures',
    'active_learning.overrides',
    'active_learning.md',
    'active_learning.selection',
)


@calcfunction
def vacuum_padded(cluster: orm.StructureData, vacuum: orm.Float) -> orm.StructureData:
    """Return ``cluster`` with ``vacuum`` (A) around it on its open axes (the paper's "C" configurations)."""
    return structure_from_atoms(pad_with_vacuum(atoms_from_structure(cluster), vacuum.value))


class DefectGenomeWorkChain(WorkChain):
    """Sample with EIPs, make periodic cells, label them, and learn actively until nothing new appears."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('basic_group', valid_type=orm.Str, help='Label of the labelled basic DFT set (a genome group).')
        spec.input('active_set', valid_type=ActiveSetData, required=False, help='Of the basic set; default: built here.')
        spec.expose_inputs(
            EipSamplingWorkChain, namespace='eip_sampling', exclude=('metadata', 'output_group', 'active_set', 'mtp', 'mlp_code')
        )
        spec.expose_inputs(PccGcmcGroupWorkChain, namespace='pcc_gcmc', exclude=('clusters', 'output_group'))
        spec.expose_inputs(DftLabelingWorkChain, namespace='dft_labeling', exclude=('metadata', 'configurations', 'output_group'))
        spec.expose_inputs(TrainingWorkChain, namespace='training', exclude=('groups',))
        spec.expose_inputs(ActiveLearningWorkChain, namespace='active_learning', exclude=_SHARED)
        spec.input('label_clusters', valid_type=orm.Bool, default=lambda: orm.Bool(False), help='Also label the "C" set.')
        spec.input('vacuum', valid_type=orm.Float, default=lambda: orm.Float(6.0), help='Vacuum of the "C" set (A).')
        spec.input('group_prefix', valid_type=orm.Str, default=lambda: orm.Str('campaign'), help='Prefix of its groups.')
        spec.outline(
            cls.setup,
            if_(cls.uses_reference)(cls.relabel_basic, cls.inspect_relabel),
            cls.sample,
            cls.inspect_sampling,
            if_(cls.has_clusters)(cls.make_cells, cls.inspect_cells, if_(cls.has_cells)(cls.label, cls.inspect_labels)),
            cls.learn,
            cls.inspect_learning,
            cls.results,
        )
        spec.output('potential', valid_type=orm.Data, required=False, help='The final MLIP.')
        spec.output('metrics', valid_type=orm.Dict, required=False, help='Its metrics.')
        spec.output('summary', valid_type=orm.Dict, help='Groups and counts of every stage.')
        spec.exit_code(201, 'ERROR_NO_BASIC_SET', message='The basic set cannot be used: {message}')
        spec.exit_code(410, 'ERROR_REFERENCE_FAILED', message='The reference potential labelled no basic configuration: {message}')
        spec.exit_code(420, 'ERROR_SAMPLING_FAILED', message='EIP sampling failed: {message}')
        spec.exit_code(440, 'ERROR_ACTIVE_LEARNING_FAILED', message='Active learning failed: {message}')

    def _group(self, name: str) -> str:
        return f'{self.inputs.group_prefix.value}/{name}'

    def setup(self):
        label = self.inputs.basic_group.value
        try:
            group = orm.load_group(label)
        except Exception as exc:  # NotExistent: say which groups there are
            return self.exit_codes.ERROR_NO_BASIC_SET.format(message=f'{exc}')
        query = orm.QueryBuilder().append(orm.Group, filters={'id': group.pk}, tag='group')
        labelled = query.append(orm.StructureData, with_group='group', filters={'extras': {'has_key': 'dg_labels'}}).count()
        if not labelled:
            return self.exit_codes.ERROR_NO_BASIC_SET.format(message=f'group `{label}` holds no labelled configuration')
        self.ctx.summary = {
            'basic': {'group': label, 'labelled': labelled},
            'eip_sampling': {'group': self._group('eip-clusters'), 'clusters': 0},
            'pcc_gcmc': {'group': self._group('pcc-gcmc'), 'cells': 0},
        }
        self.ctx.training_groups = [label]
        if 'active_set' in self.inputs:
            self.ctx.active_set = self.inputs.active_set
        else:
            self.ctx.active_set, built = active_set_for_group(label, DEFAULT_DESCRIPTOR)
            self.report(f'active set of `{label}`: {self.ctx.active_set.size} rows ({"built" if built else "reused"})')

    def uses_reference(self):
        return self.inputs.dft_labeling.engine.value == 'reference'

    def relabel_basic(self):
        """Copy the basic set and label the copies with the reference potential (the originals keep their DFT)."""
        basic = orm.load_group(self.inputs.basic_group.value)
        originals = {f's{node.pk}': node for node in basic.nodes if isinstance(node, orm.StructureData)}
        copies = copied_configurations(**originals)
        group, _ = GenomeGroup.collection.get_or_create(self._group('basic-reference'))
        group.add_nodes(list(copies.values()))
        potential = self.inputs.dft_labeling.reference_potential
        self.report(
            f'labels come from the reference potential {potential.name}, not from DFT: {len(copies)} copies of the basic '
            f'set in `{group.label}` are labelled by it, and only reference labels are trained on'
        )
        inputs = self.exposed_inputs(DftLabelingWorkChain, namespace='dft_labeling')
        inputs.update(configurations=orm.Str(group.label), metadata={'call_link_label': 'reference_basic'})
        return ToContext(reference_basic=self.submit(DftLabelingWorkChain, **inputs))

    def inspect_relabel(self):
        node = self.ctx.reference_basic
        labelled = len(node.outputs.summary['labelled']) if 'summary' in node.outputs else 0
        if not labelled:
            return self.exit_codes.ERROR_REFERENCE_FAILED.format(message=process_failure(node))
        self.ctx.training_groups = [self._group('basic-reference')]
        potential = self.inputs.dft_labeling.reference_potential
        self.ctx.summary['reference'] = {'potential': potential.name, 'group': self._group('basic-reference'), 'labelled': labelled}
        return None

    def sample(self):
        inputs = self.exposed_inputs(EipSamplingWorkChain, namespace='eip_sampling')
        inputs.update(active_set=self.ctx.active_set, output_group=orm.Str(self._group('eip-clusters')))
        inputs['metadata'] = {'call_link_label': 'eip_sampling'}
        return ToContext(sampling=self.submit(EipSamplingWorkChain, **inputs))

    def inspect_sampling(self):
        node = self.ctx.sampling
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_SAMPLING_FAILED.format(message=process_failure(node))
        self.ctx.summary['eip_sampling']['clusters'] = node.outputs.summary['clusters']
        if not self.has_clusters():
            self.report('EIP sampling found no environment above the selection threshold: active learning on the basic set')
        return None

    def has_clusters(self):
        return bool(self.ctx.summary['eip_sampling']['clusters'])

    def has_cells(self):
        return bool(self.ctx.summary['pcc_gcmc']['cells'])

    def make_cells(self):
        inputs = self.exposed_inputs(PccGcmcGroupWorkChain, namespace='pcc_gcmc')
        inputs.update(clusters=orm.Str(self._group('eip-clusters')), output_group=orm.Str(self._group('pcc-gcmc')))
        inputs['metadata'] = {'call_link_label': 'pcc_gcmc'}
        futures = {'cells': self.submit(PccGcmcGroupWorkChain, **inputs)}
        if self.inputs.label_clusters.value:
            padded = [vacuum_padded(cluster, self.inputs.vacuum) for cluster in orm.load_group(self._group('eip-clusters')).nodes]
            group, _ = GenomeGroup.collection.get_or_create(self._group('eip-clusters-padded'))
            group.add_nodes(padded)
            self.report(f'{len(padded)} vacuum-padded clusters in `{group.label}` (the "C" set)')
        return ToContext(**futures)

    def inspect_cells(self):
        node = self.ctx.cells
        if not node.is_finished_ok:
            self.report(f'no cluster became a periodic cell ({process_failure(node)}): active learning on the basic set')
            return
        self.ctx.summary['pcc_gcmc']['cells'] = sum('cell' in entry for entry in node.outputs.summary.get_dict().values())

    def label(self):
        inputs = self.exposed_inputs(DftLabelingWorkChain, namespace='dft_labeling')
        targets = {'cells': 'pcc-gcmc'}
        if self.inputs.label_clusters.value:
            targets['padded'] = 'eip-clusters-padded'
        futures = {}
        for key, name in targets.items():
            inputs['configurations'] = orm.Str(self._group(name))
            inputs['metadata'] = {'call_link_label': f'dft_labeling_{key}'}
            futures[f'dft__{key}'] = self.submit(DftLabelingWorkChain, **inputs)
        return ToContext(**futures)

    def inspect_labels(self):
        for key in sorted(k for k in self.ctx if k.startswith('dft__')):
            node = self.ctx[key]
            summary = node.outputs.summary.get_dict() if 'summary' in node.outputs else {}
            counts = {name: len(summary.get(name, {})) for name in ('labelled', 'skipped', 'failed')}
            self.ctx.summary[f'dft_labeling_{key[5:]}'] = counts
            self.report(f'DFT ({key[5:]}): {counts["labelled"]} labelled, {counts["skipped"]} reused, {counts["failed"]} failed')
        counts = self.ctx.summary['dft_labeling_cells']
        if counts['labelled'] + counts['skipped']:
            self.ctx.training_groups.append(self._group('pcc-gcmc'))
        else:
            failure = process_failure(self.ctx['dft__cells'])
            self.report(f'no periodic cell was labelled ({failure}): active learning on the basic set')

    def learn(self):
        inputs = self.exposed_inputs(ActiveLearningWorkChain, namespace='active_learning')
        inputs['training'] = self.exposed_inputs(TrainingWorkChain, namespace='training')
        inputs['pcc_gcmc'] = self.exposed_inputs(PccGcmcGroupWorkChain, namespace='pcc_gcmc')
        inputs['dft_labeling'] = self.exposed_inputs(DftLabelingWorkChain, namespace='dft_labeling')
        inputs['groups'] = orm.List(self.ctx.training_groups)
        inputs['group_prefix'] = orm.Str(self._group('otf-al'))
        inputs['metadata'] = {'call_link_label': 'active_learning'}
        return ToContext(learning=self.submit(ActiveLearningWorkChain, **inputs))

    def inspect_learning(self):
        node = self.ctx.learning
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_ACTIVE_LEARNING_FAILED.format(message=process_failure(node))
        self.out('potential', node.outputs.potential)
        self.out('metrics', node.outputs.metrics)
        self.ctx.summary['active_learning'] = node.outputs.summary.get_dict()
        return None

    def results(self):
        self.out('summary', workflow_summary(orm.Dict(self.ctx.summary)))
        learning = self.ctx.summary.get('active_learning', {})
        self.report(
            f'campaign done: {self.ctx.summary["eip_sampling"]["clusters"]} EIP clusters, '
            f'{self.ctx.summary["pcc_gcmc"]["cells"]} cells, {len(learning.get("rounds", []))} active-learning rounds, '
            f'{"converged" if learning.get("converged") else "not converged"}'
        )

    @classmethod
    def get_builder_from_protocol(
        cls,
        lammps_code,
        python_code,
        dft_code,
        *,
        protocol: str | None = None,
        overrides: dict | None = None,
        options: dict | None = None,
        basic_group: str = 'W-basic',
        group_prefix: str | None = None,
        reference_labeler: str | None = None,
        **dft_settings,
    ):
        """Return a campaign builder with the stages set by ``protocol`` of ``campaign.yaml`` (``demo``,
        ``production``), each through its own workflow's ``get_builder_from_protocol``.

        :param dft_code: a GPAW or VASP code, as the protocol's ``dft_labeling.engine`` asks (not used with
            ``reference_labeler``).
        :param reference_labeler: name of a registered potential (e.g. ``meam-W``) that labels instead of DFT:
            a surrogate for trying the machinery in minutes, whose labels are never mixed with DFT labels.
        :param overrides: campaign settings to replace, e.g. ``{'dft_labeling': {'max_concurrent': 4}}``.
        :param options: ``metadata.options`` by kind of job: ``lammps`` (EIP sampling and PCC-GCMC box runs),
            ``dft`` (the labelling jobs), ``training`` (the training jobs), e.g.
            ``{'dft': {'resources': {'num_machines': 2}, 'max_wallclock_seconds': 7200, 'account': 'p1'}}``.
        :param dft_settings: ``potential_family``, ``potential_mapping`` (VASP).
        """
        unknown = sorted(set(options or {}) - set(CAMPAIGN_OPTIONS))
        if unknown:
            raise ValueError(f'unknown options `{", ".join(unknown)}`; known: {", ".join(CAMPAIGN_OPTIONS)}')
        options = {kind: (options or {}).get(kind) for kind in CAMPAIGN_OPTIONS}
        name, settings = read_protocol('campaign', protocol)
        settings = merge_overrides(settings, overrides, 'campaign', OPEN_OVERRIDES)
        potentials = [load_potential(label) for label in settings['potentials']]
        builder = cls.get_builder()
        builder.basic_group = orm.Str(basic_group)
        builder.group_prefix = orm.Str(group_prefix or time.strftime(f'{name}-%Y%m%d-%H%M%S'))

        eip = settings['eip_sampling']
        sampling = EipSamplingWorkChain.get_builder_from_protocol(
            lammps_code, python_code, potentials, protocol=eip['protocol'], overrides=eip['overrides'],
            options=options['lammps'], scenarios=eip['scenarios'], selection=eip['selection'],
        )  # fmt: skip
        _copy_into(builder.eip_sampling, sampling, exclude=('metadata', 'output_group', 'active_set', 'mtp', 'mlp_code'))

        pcc = settings['pcc_gcmc']
        builder.pcc_gcmc.code, builder.pcc_gcmc.potential = lammps_code, potentials[0]
        builder.pcc_gcmc.parameters = protocol_parameters(pcc['protocol'], pcc['overrides'])
        builder.pcc_gcmc.max_concurrent = orm.Int(pcc['max_concurrent'])
        if options['lammps']:
            builder.pcc_gcmc.lammps_options = orm.Dict(options['lammps'])

        dft = settings['dft_labeling']
        if reference_labeler:
            builder.dft_labeling.engine = orm.Str('reference')
            builder.dft_labeling.reference_potential = load_potential(reference_labeler)
            builder.dft_labeling.reference_code = python_code
        else:
            if dft['engine'] == 'vasp':
                dft_settings.setdefault('potential_mapping', {element: element for p in potentials for element in p.species})
            labeling = DftLabelingWorkChain.get_builder_from_protocol(
                dft_code, '', protocol=dft['protocol'], overrides=dft['overrides'], options=options['dft'],
                engine=dft['engine'], **dft_settings,
            )  # fmt: skip
            labeling.max_concurrent = orm.Int(dft['max_concurrent'])
            _copy_into(builder.dft_labeling, labeling, exclude=('metadata', 'configurations', 'output_group'))

        train = settings['training']
        training = TrainingWorkChain.get_builder_from_protocol(
            python_code, [basic_group], protocol=train['protocol'], options=options['training'], ensemble=train.get('ensemble', 0)
        )
        _copy_into(builder.training, training, exclude=('metadata', 'groups'))

        learning = settings['active_learning']
        element, (lattice, a) = potentials[0].species[0], ground_state_lattice(potentials[0])
        cells = learning['structures']
        structures = {key: structure_from_atoms(vacancy_cluster(element, a, lattice, **cell)) for key, cell in cells.items()}
        eip_settings = merge_overrides(read_protocol('eip_sampling', eip['protocol'])[1], learning['overrides'], 'eip_sampling')
        for run in plan_runs(learning['scenarios'], element, a, eip_settings, lattice=lattice):
            key = port_name(run.label)
            structures[key] = structure_from_atoms(run.atoms)
            builder.active_learning.loadings[key] = orm.Dict({k: run.parameters[k] for k in ('stages', 'frozen')})
        builder.active_learning.structures = structures
        builder.active_learning.md = orm.Dict(learning['md'])
        builder.active_learning.md_code = python_code
        builder.active_learning.selection = orm.Dict(learning['selection'])
        builder.active_learning.max_iterations = orm.Int(learning['max_iterations'])
        builder.metadata.label = f'defect genome campaign ({name})'
        return builder


def _copy_into(namespace, source, exclude=('metadata',)) -> None:
    """Set on builder ``namespace`` every input set on builder ``source`` but the keys ``exclude``;
    nested namespaces are filled port by port (all of their keys), so their defaults stay."""
    for key, value in source.items():
        if key in exclude:
            continue
        if isinstance(value, ProcessBuilderNamespace):
            _copy_into(namespace[key], value, exclude=())
        else:
            namespace[key] = value
