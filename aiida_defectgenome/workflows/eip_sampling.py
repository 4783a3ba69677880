"""``EipSamplingWorkChain``: large empirical-potential runs under many loadings, screened by gamma where they ran.

Every scenario structure runs with every EIP (``EipRunWorkChain``: LAMMPS with the restarts of
``LammpsBaseWorkChain``, snapshots dumped on the computer that runs it, then at once a ``SelectionCalculation``
on that same computer that grades the snapshots against the active set, or against a trained MTP's own active
set with MLIP-3's ``mlp`` (inputs ``mtp`` and ``mlp_code``), and cuts the selected environments);
the clusters go into a group, each with extras saying where it came from (``dg_scenario``, ``dg_variant``,
``dg_potential``, ``dg_snapshot``, ``dg_step``, ``dg_source_atom``, ``dg_gamma``, ``dg_centre``) and with a
provenance path back to the LAMMPS run, its structure and its EIP.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, WorkChain, while_

from ..calculations.functions.summaries import workflow_summary
from ..calculations.selection import SelectionCalculation
from ..common.structures import structure_from_atoms
from ..common.validators import dict_validator
from ..core.doptimality.screening import validate_selection_parameters
from ..core.lammps.inputs import type_elements
from ..core.lammps.sampling_plan import plan_runs
from ..data.active_set import ActiveSetData
from ..data.genome import GenomeGroup
from ..data.potential import InteratomicPotentialData
from ..data.potential_registry import ground_state_lattice, require_single_element
from ..protocols import merge_overrides, read_protocol
from . import jobs_at_once, port_name
from .eip_run import EipRunWorkChain

__all__ = ('EipSamplingWorkChain',)


def _validate_inputs(inputs, ctx):
    runs = inputs.get('runs')
    structures, parameters = inputs.get('structures', {}), inputs.get('run_parameters', {})
    if set(structures) != set(parameters):
        return f'structures and run_parameters need the same keys (differ in {sorted(set(structures) ^ set(parameters))})'
    if runs is not None and set(runs.get_dict()) != set(structures):
        return 'runs must describe every structure (keys scenario, variant)'
    if not inputs.get('potentials'):
        return 'give at least one potential'
    if not all(name in ctx for name in ('active_set', 'mtp')):
        return None  # exposed without its grader (the campaign gives the active set itself)
    mtp = inputs.get('mtp')
    if (inputs.get('active_set') is None) == (mtp is None):
        return 'grade against either an `active_set` or an `mtp` (with `mlp_code`), not both, not neither'
    if mtp is not None:
        if inputs.get('mlp_code') is None:
            return "grading with an `mtp` needs `mlp_code`: MLIP-3's mlp on the computer of lammps_code"
        missing = sorted({e for p in inputs['potentials'].values() for e in p.species} - set(mtp.species))
        if missing:
            return f'MTP `{mtp.name}` knows {", ".join(mtp.species)}, not {", ".join(missing)} of the EIPs'


class EipSamplingWorkChain(WorkChain):
    """Sample defect environments with EIPs under many loadings and select the extrapolative ones."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input_namespace('structures', valid_type=orm.StructureData, dynamic=True, help='Starting structure of each run.')
        spec.input_namespace('run_parameters', valid_type=orm.Dict, dynamic=True, help='LAMMPS parameters of each run.')
        spec.input('runs', valid_type=orm.Dict, help='Per run key: `scenario` and `variant` (what the extras say).')
        spec.input_namespace(
            'potentials', valid_type=InteratomicPotentialData, dynamic=True, help='The EIPs; each runs every scenario.'
        )
        spec.expose_inputs(SelectionCalculation, include=('active_set', 'mtp', 'mlp_code'))
        spec.inputs['active_set'].help = 'Active set of the reference (basic) dataset; or give `mtp` and `mlp_code`.'
        spec.input(
            'selection',
            valid_type=orm.Dict,
            validator=dict_validator(validate_selection_parameters),
            help='threshold, limit, radius, ...',
        )
        spec.input('lammps_code', valid_type=orm.AbstractCode)
        spec.input('selection_code', valid_type=orm.AbstractCode, help='Python with this package, on the computer of lammps_code.')
        spec.input('output_group', valid_type=orm.Str, help='Group that receives the clusters.')
        spec.input('lammps_options', valid_type=orm.Dict, required=False, help='metadata.options of the LAMMPS jobs.')
        spec.input(
            'max_concurrent',
            valid_type=orm.Int,
            required=False,
            help='Runs at once; default: the cores of a computer without a queue (over MPI processes per run), else 50.',
        )
        spec.inputs.validator = _validate_inputs
        spec.outline(cls.setup, while_(cls.has_pending)(cls.run_simulations), cls.collect)
        spec.output('summary', valid_type=orm.Dict, help='Per run and potential: snapshots, atoms, clusters, gamma histogram.')
        spec.exit_code(410, 'ERROR_ALL_RUNS_FAILED', message='No run and its selection finished: {message}')

    def setup(self):
        self.ctx.pending = [(key, name) for key in self.inputs.structures for name in self.inputs.potentials]
        options = self.inputs.lammps_options.get_dict() if 'lammps_options' in self.inputs else {}
        resources = options.get('resources', {})
        processes = resources.get('num_machines', 1) * resources.get('num_mpiprocs_per_machine', 1)
        self.ctx.at_once = jobs_at_once(self.inputs.lammps_code, self.inputs.get('max_concurrent'), per_item=processes)
        self.report(
            f'{len(self.ctx.pending)} runs ({len(self.inputs.structures)} scenarios x {len(self.inputs.potentials)} EIPs), '
            f'{self.ctx.at_once} at a time, each selected as soon as it ends'
        )

    def has_pending(self):
        return bool(self.ctx.pending)

    def run_simulations(self):
        futures = {}
        batch, self.ctx.pending = self.ctx.pending[: self.ctx.at_once], self.ctx.pending[self.ctx.at_once :]
        for key, name in batch:
            structure, potential = self.inputs.structures[key], self.inputs.potentials[name]
            lammps = {'code': self.inputs.lammps_code, 'structure': structure, 'potential': potential}
            lammps['parameters'] = self.inputs.run_parameters[key]
            if 'lammps_options' in self.inputs:
                lammps['metadata'] = {'options': self.inputs.lammps_options.get_dict()}
            scenario = self.inputs.runs[key]
            frozen = self.inputs.run_parameters[key].get_dict().get('frozen', 0)
            selection = {
                **self.inputs.selection.get_dict(),
                'species': type_elements(potential.species, frozen),
                'provenance': {
                    'scenario': scenario['scenario'],
                    'variant': scenario['variant'],
                    'potential': potential.name,
                    'run': key,
                },
            }
            futures[f'run__{key}__{name}'] = self.submit(
                EipRunWorkChain,
                lammps=lammps,
                selection=orm.Dict(selection),
                **self.exposed_inputs(SelectionCalculation),
                selection_code=self.inputs.selection_code,
                metadata={'call_link_label': f'run_{key}_{name}', 'label': f'{scenario["scenario"]}-{scenario["variant"]}'},
            )
        self.report(f'submitted {len(futures)} runs; {len(self.ctx.pending)} waiting')
        return ToContext(**futures)

    def _finished(self, failures: list[str]):
        """Yield ``(run, potential name, node)`` of the runs that finished; record and report the others."""
        for key in sorted(k for k in self.ctx if k.startswith('run__')):
            node = self.ctx[key]
            _, run, name = key.split('__')
            if node.is_finished_ok:
                yield run, name, node
                continue
            failures.append(f'{node.process_label}<{node.pk}> ({run}, {name}): {node.exit_message}')
            self.report(f'run {run} with {name} failed, skipped: {failures[-1]}')

    def collect(self):
        group, _ = GenomeGroup.collection.get_or_create(self.inputs.output_group.value)
        summary, failures, total = {}, [], 0
        for run, name, node in self._finished(failures):
            info = node.outputs.cluster_info.get_dict()
            clusters = [node.outputs.clusters[k] for k in sorted(info)]
            for cluster_key, cluster in zip(sorted(info), clusters):
                cluster.base.extras.set_many({f'dg_{k}': _extra(k, v) for k, v in info[cluster_key].items() if k in _EXTRAS})
            group.add_nodes(clusters)
            total += len(clusters)
            counts = node.outputs.summary.get_dict()
            summary[f'{run}/{name}'] = {**self.inputs.runs[run], 'potential': name, **counts}
            scenario = self.inputs.runs[run]
            self.report(
                f'{scenario["scenario"]} {scenario["variant"]} with {name}: {counts["snapshots"]} snapshots, '
                f'{counts["atoms"]} environments, {counts["preselected"]} at gamma >= threshold, {len(clusters)} clusters'
            )
        if not summary:
            return self.exit_codes.ERROR_ALL_RUNS_FAILED.format(message='; '.join(failures))
        tally = {'runs': summary, 'clusters': total, 'failed': failures, 'group': group.label}
        self.out('summary', workflow_summary(orm.Dict(tally)))
        self.report(f'{total} clusters in group `{group.label}`')
        return None

    @classmethod
    def get_builder_from_protocol(
        cls,
        lammps_code,
        selection_code,
        potentials: list,
        *,
        protocol: str | None = None,
        overrides: dict | None = None,
        options: dict | None = None,
        active_set: ActiveSetData | None = None,
        mtp: InteratomicPotentialData | None = None,
        mlp_code=None,
        scenarios=('all',),
        output_group: str = 'eip-sampling-clusters',
        selection: dict | None = None,
        lattice_constant: float | None = None,
        seed: int = 1,
    ):
        """Return a builder running ``scenarios`` (names of :data:`..core.lammps.sampling_plan.SCENARIOS` or ``all``)
        with ``protocol`` (``fast``, ``production``) for the element of the first potential.

        :param overrides: protocol settings to replace, e.g. ``{'loop': {'steps': 3000}}``.
        :param options: ``metadata.options`` of the LAMMPS jobs (resources, walltime, account, queue).
        :param active_set: what the snapshots are graded against; the campaign builds it from its basic set.
        :param mtp: instead of ``active_set``, a trained MTP (``--al_mode=nbh``) whose own active set grades,
            by ``mlp calculate_grade`` with ``mlp_code`` (an installed code on the computer of ``lammps_code``).
        :param lattice_constant: lattice constant (A) of the potential's ground state (bcc, fcc or hcp, with its
            c/a, relaxed at zero pressure); default: the potential's own.
        :param selection: selection settings (threshold 2, limit, radius 8 A, ...).
        """
        _, settings = read_protocol('eip_sampling', protocol)
        settings = merge_overrides(settings, overrides, 'eip_sampling')
        require_single_element(potentials)
        species = potentials[0].species
        lattice, a = ground_state_lattice(potentials[0])
        a = lattice_constant or a
        builder = cls.get_builder()
        runs = plan_runs(list(scenarios), species[0], a, settings, seed, lattice)
        builder.runs = orm.Dict({f'r{k:02d}': {'scenario': run.scenario, 'variant': run.variant} for k, run in enumerate(runs)})
        builder.structures = {f'r{k:02d}': structure_from_atoms(run.atoms) for k, run in enumerate(runs)}
        builder.run_parameters = {f'r{k:02d}': orm.Dict(run.parameters) for k, run in enumerate(runs)}
        builder.potentials = {port_name(p.name): p for p in potentials}
        if active_set is not None:  # the campaign builds it from its basic set
            builder.active_set = active_set
        if mtp is not None:
            builder.mtp, builder.mlp_code = mtp, mlp_code
        builder.selection = orm.Dict(selection or {})
        builder.lammps_code, builder.selection_code = lammps_code, selection_code
        builder.output_group = orm.Str(output_group)
        if options:
            builder.lammps_options = orm.Dict(options)
        return builder


#: Cluster info keys that become extras ``dg_<key>``.
_EXTRAS = (
    'scenario',
    'variant',
    'potential',
    'run',
    'snapshot',
    'step',
    'source_atom',
    'gamma',
    'centre',
    'source_file',
    'cut_radius',
)


def _extra(key, value):
    return float(value) if key in ('gamma', 'cut_radius') else value
