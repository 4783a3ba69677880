"""``PccGcmcWorkChain``: one cluster -> a vacuum-free periodic cell; ``PccGcmcGroupWorkChain``: a group of them.

The EIP's cohesive energy comes from a ``LammpsCalculation`` of the element's reference crystal (once per
group; for a single cluster beside its box runs; not at all when given), so that no LAMMPS runs inside the
daemon. The frozen core (the central atom's environment) and the boxes are planned and seeded by a calcfunction,
each box is healed by one ``LammpsCalculation`` (all submitted at once), and a calcfunction checks every
box (geometry, and the central atom's descriptor against the cluster's) and picks the valid one lowest
in energy per atom. See :mod:`..core.pcc_gcmc.gcmc` for the method and :mod:`..calculations.functions.pcc_gcmc`
for the provenance.
"""

from __future__ import annotations

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ToContext, WorkChain, if_, while_

from ..calculations.functions.pcc_gcmc import assess_pcc_boxes, cohesive_energy_of, prepared_cluster, seed_pcc_boxes
from ..calculations.functions.summaries import workflow_summary
from ..calculations.lammps import LammpsCalculation
from ..common.structures import structure_from_atoms
from ..common.validators import dict_validator
from ..core.pcc_gcmc import gcmc
from ..core.pcc_gcmc.cells import plan_boxes
from ..data.active_set import ActiveSetData
from ..data.genome import GenomeGroup
from ..data.potential import InteratomicPotentialData
from ..protocols import read_protocol
from . import jobs_at_once

__all__ = ('PccGcmcGroupWorkChain', 'PccGcmcWorkChain', 'load_protocol', 'protocol_parameters')

STRESS_WARNING = 10.0  # GPa: a chosen cell more stressed than this is reported
UNCONVERGED_MINIMIZATION = LammpsCalculation.exit_codes.ERROR_MINIMIZATION_NOT_CONVERGED.status
#: Extras set on the chosen cell (figures of merit) and on the cluster (the cell it became).
FIGURE_EXTRAS = (
    'energy_per_atom',
    'ideal_gap',
    'frozen_gap',
    'n_core',
    'n_buffer',
    'n_inserted',
    'natoms',
    'max_abs_stress',
    'fill_fraction',
    'environment_change',
    'gamma',
)


def load_protocol(name: str | None = None) -> tuple[str, dict]:
    """Return ``(name, parameters)`` of a PCC-GCMC protocol (``fast``, ``paper``)."""
    name, protocol = read_protocol('pcc_gcmc', name)
    return name, dict(protocol['parameters'])


def protocol_parameters(protocol: str | None = None, overrides: dict | None = None) -> orm.Dict:
    """The ``parameters`` input of ``protocol`` with ``overrides`` (keys of ``core.pcc_gcmc.gcmc.PCC_GCMC_DEFAULTS``)
    replacing its values; ``ValueError`` naming an unknown key before anything is stored."""
    parameters = {**load_protocol(protocol)[1], **(overrides or {})}
    gcmc.validate_pcc_parameters(parameters)
    return orm.Dict(parameters)


def checked_cluster(cluster, potential, parameters: dict, core_mask=None, cluster_info=None):
    """Return the prepared cluster (frozen core, buffer) for the work chain's inputs (``parameters``
    validated), storing nothing: what :class:`PccGcmcWorkChain` checks first.

    :raises ValueError: for a cluster that cannot be used, or one the potential does not describe.
    """
    prepared = prepared_cluster(cluster, core_mask, cluster_info, parameters)
    missing = set(prepared.atoms.get_chemical_symbols()) - set(potential.species)
    if missing:
        raise ValueError(f'potential `{potential.name}` does not describe {", ".join(sorted(missing))}')
    return prepared


def plan_cluster(cluster, potential, parameters: dict, core_mask=None, cluster_info=None):
    """Return ``(prepared cluster, box plan)``, storing nothing: for callers that refuse a cluster no box
    fits before launching (the ``pcc-gcmc`` command).

    :raises ValueError: for a cluster that cannot be used (:class:`.ImpossibleBox` where no box fits).
    """
    prepared = checked_cluster(cluster, potential, parameters, core_mask, cluster_info)
    return prepared, plan_boxes(prepared, parameters)


def submit_cohesive_run(workchain: WorkChain, element: str) -> ToContext:
    """Submit the LAMMPS job of ``element``'s reference crystal (:func:`..core.pcc_gcmc.gcmc.cohesive_energy_run`)
    with the work chain's code, potential and ``lammps_options``; return it to land in ``ctx.cohesive_run``."""
    crystal, parameters = gcmc.cohesive_energy_run(element)
    inputs = {
        'code': workchain.inputs.code,
        'potential': workchain.inputs.potential,
        'structure': structure_from_atoms(crystal),
        'parameters': orm.Dict(parameters),
        'metadata': {'call_link_label': 'cohesive_energy'},
    }
    if 'lammps_options' in workchain.inputs:
        inputs['metadata']['options'] = workchain.inputs.lammps_options.get_dict()
    workchain.report(f"the EIP's cohesive energy: relaxing {len(crystal)} atoms of {element}'s reference crystal, box and all")
    return ToContext(cohesive_run=workchain.submit(LammpsCalculation, **inputs))


def cohesive_energy_from_run(workchain: WorkChain):
    """Set ``ctx.cohesive`` from ``ctx.cohesive_run``; return the work chain's exit code if that job failed."""
    calc = workchain.ctx.cohesive_run
    if not calc.is_finished_ok:
        return workchain.exit_codes.ERROR_COHESIVE_ENERGY_FAILED.format(
            message=f'{calc.process_label}<{calc.pk}> [{calc.exit_status}] {calc.exit_message}'
        )
    workchain.ctx.cohesive = cohesive_energy_of(calc.outputs.output_parameters)
    workchain.report(f"the EIP's cohesive energy: {workchain.ctx.cohesive.value:.4f} eV/atom")
    return None


class PccGcmcWorkChain(WorkChain):
    """Turn a cluster (its core frozen) into a periodic cell without vacuum, with an EIP in LAMMPS."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('cluster', valid_type=orm.StructureData, help='The cluster; periodic axes (pbc) stay periodic.')
        spec.input(
            'core_mask',
            valid_type=orm.ArrayData,
            required=False,
            help='Array `core` (n,) bool: the atoms that may be frozen (those within the core radius are); absent: all.',
        )
        spec.input('cluster_info', valid_type=orm.Dict, required=False, help='`centre_index` (the central atom), `cut_radius` (A).')
        spec.input(
            'active_set',
            valid_type=ActiveSetData,
            required=False,
            help='Active set that selected the cluster: its descriptor checks the central atom, and grades it.',
        )
        spec.input('source_energies', valid_type=orm.ArrayData, required=False, help='Array `energies` (n,) eV, source run.')
        spec.input('potential', valid_type=InteratomicPotentialData, help='The EIP that fills and heals the box.')
        spec.input('code', valid_type=orm.AbstractCode, help='The LAMMPS code.')
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            default=lambda: orm.Dict(load_protocol()[1]),
            validator=dict_validator(gcmc.validate_pcc_parameters),
            help='PCC-GCMC parameters (core.pcc_gcmc.gcmc.PCC_GCMC_DEFAULTS); defaults: the `fast` protocol.',
        )
        spec.input('cohesive_energy', valid_type=orm.Float, required=False, help='EIP energy per atom (eV); else computed.')
        spec.input(
            'lammps_options',
            valid_type=orm.Dict,
            required=False,
            help='metadata.options of the LAMMPS box runs (resources, max_wallclock_seconds, account, queue_name).',
        )
        spec.outline(
            cls.setup,
            if_(cls.needs_cohesive_energy_to_seed)(cls.run_cohesive, cls.inspect_cohesive),
            cls.seed,
            cls.run_boxes,
            cls.assess,
            if_(cls.should_fall_back)(cls.fall_back, cls.seed, cls.run_boxes, cls.assess),
            cls.results,
        )
        spec.output('structure', valid_type=orm.StructureData, required=False, help='The chosen periodic cell.')
        spec.output('core', valid_type=orm.ArrayData, required=False, help='Its core mask (array `core`).')
        spec.output('energy_map', valid_type=orm.ArrayData, help='Every candidate: lengths, atoms, energy, valid.')
        spec.output('energy_map_plot', valid_type=orm.SinglefileData, help='PNG of the energy map.')
        spec.output('figures', valid_type=orm.Dict, help='Figures of merit of every candidate and the chosen one.')
        spec.output(
            'first_round_figures',
            valid_type=orm.Dict,
            required=False,
            help='With a second round (`fallback`): the figures of the first, whose boxes were none valid.',
        )
        spec.exit_code(202, 'ERROR_IMPOSSIBLE_BOX', message='No periodic box fits the cluster: {reason}')
        spec.exit_code(201, 'ERROR_INVALID_CLUSTER', message='The cluster cannot be used: {reason}')
        spec.exit_code(410, 'ERROR_ALL_BOX_RUNS_FAILED', message='Every LAMMPS box run failed; the first: {first}')
        spec.exit_code(411, 'ERROR_COHESIVE_ENERGY_FAILED', message='The LAMMPS run of the reference crystal failed: {message}')
        spec.exit_code(310, 'ERROR_NO_VALID_CELL', message='No candidate cell is valid: {reasons}')

    @classmethod
    def get_builder_from_protocol(cls, code, potential, cluster, *, protocol=None, overrides=None, options=None, **inputs):
        """Return a builder for ``cluster`` with the parameters of ``protocol`` (``fast``, ``paper``)
        updated by ``overrides``; ``options``: ``metadata.options`` of the LAMMPS box runs; extra keyword
        ``inputs`` (core_mask, source_energies, ...) are set as given."""
        parameters = protocol_parameters(protocol, overrides)
        builder = cls.get_builder()
        builder.code, builder.potential, builder.cluster, builder.parameters = code, potential, cluster, parameters
        if options:
            builder.lammps_options = orm.Dict(options)
        for key, value in inputs.items():
            builder[key] = value
        return builder

    def setup(self):
        """Check the cluster and its frozen core before anything is stored, so bad input fails early. The boxes
        are planned once, by ``seed_pcc_boxes`` (a cluster no box fits ends there, before any LAMMPS run)."""
        self.ctx.parameters = gcmc.validate_pcc_parameters(self.inputs.parameters.get_dict())
        try:
            prepared = checked_cluster(
                self.inputs.cluster,
                self.inputs.potential,
                self.ctx.parameters,
                self.inputs.get('core_mask'),
                self.inputs.get('cluster_info'),
            )
        except ValueError as exc:
            return self.exit_codes.ERROR_INVALID_CLUSTER.format(reason=str(exc))
        self.ctx.element = prepared.atoms.get_chemical_symbols()[0]
        if 'cohesive_energy' in self.inputs:  # else computed next (`run_cohesive`)
            self.ctx.cohesive = self.inputs.cohesive_energy
        # the round's parameters: the inputs', then the second round's (``fallback``) once the first is done
        self.ctx.round_parameters, self.ctx.first_round = self.inputs.parameters, None
        self.ctx.fallback = gcmc.fallback_parameters(self.ctx.parameters)
        self.report(
            f'{prepared.n_core} atoms frozen within {prepared.region.radius:.2f} A of the central atom (atom '
            f'{prepared.order[0]} of the cluster), {len(prepared.atoms) - prepared.n_core} buffer atoms'
        )

    def needs_cohesive_energy_to_seed(self) -> bool:
        """Whether the first round anneals (its temperature is a fraction of the cohesive energy) and no
        cohesive energy is given: else its job runs beside the box runs (``run_boxes``)."""
        return 'cohesive' not in self.ctx and self.ctx.parameters['anneal']

    def run_cohesive(self):
        return submit_cohesive_run(self, self.ctx.element)

    def inspect_cohesive(self):
        return cohesive_energy_from_run(self)

    def _second_round(self) -> bool:
        return self.ctx.first_round is not None

    def _box_label(self, index: int) -> str:
        return f'fallback_box_{index}' if self._second_round() else f'box_{index}'

    def seed(self):
        extra = {key: self.inputs[key] for key in ('core_mask', 'cluster_info', 'active_set') if key in self.inputs}
        if (self.ctx.fallback if self._second_round() else self.ctx.parameters)['anneal']:
            extra['cohesive_energy'] = self.ctx.cohesive
        outputs, node = seed_pcc_boxes.run_get_node(self.inputs.cluster, self.ctx.round_parameters, **extra)
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_IMPOSSIBLE_BOX.format(reason=node.exit_message)
        self.ctx.seeded = outputs
        plan = outputs['plan']
        sizes = [box['seeded_atoms'] for box in plan['boxes']]
        self.report(
            f'{len(sizes)} candidate boxes seeded with {min(sizes)}-{max(sizes)} atoms'
            + (", along the cluster's lattice" if plan.get('lattice') else ' (no single lattice in the cluster)')
        )

    def run_boxes(self):
        runs = {}
        for index, box in enumerate(self.ctx.seeded['plan']['boxes']):
            inputs = {
                'code': self.inputs.code,
                'potential': self.inputs.potential,
                'structure': self.ctx.seeded[f'box_{index}'],
                'parameters': orm.Dict(box['run']),
                'metadata': {'call_link_label': self._box_label(index)},
            }
            if 'lammps_options' in self.inputs:
                inputs['metadata']['options'] = self.inputs.lammps_options.get_dict()
            runs[self._box_label(index)] = self.submit(LammpsCalculation, **inputs)
        self.report(f'submitted {len(runs)} LAMMPS box runs' + (' (second round)' if self._second_round() else ''))
        if 'cohesive' not in self.ctx:
            return ToContext(**runs, **submit_cohesive_run(self, self.ctx.element))
        return ToContext(**runs)

    def assess(self):
        if 'cohesive' not in self.ctx:  # its job ran beside the boxes
            failed = cohesive_energy_from_run(self)
            if failed:
                return failed
        runs, failures = {}, []
        for index in range(len(self.ctx.seeded['plan']['boxes'])):
            calc = self.ctx[self._box_label(index)]
            runs[f'box_{index}'] = self.ctx.seeded[f'box_{index}']
            # a minimisation that stopped on its iteration limit still gives a usable cell
            if calc.exit_status not in (0, UNCONVERGED_MINIMIZATION) or 'structure' not in calc.outputs:
                failures.append(f'{calc.process_label}<{calc.pk}> [{calc.exit_status}] {calc.exit_message}')
                self.report(f'box {index}: {failures[-1]}')
                continue
            runs[f'structure_{index}'] = calc.outputs.structure
            runs[f'per_atom_{index}'] = calc.outputs.per_atom
            runs[f'output_parameters_{index}'] = calc.outputs.output_parameters
        if not any(key.startswith('structure_') for key in runs):
            return self.exit_codes.ERROR_ALL_BOX_RUNS_FAILED.format(first=failures[0])
        extra = {key: self.inputs[key] for key in ('source_energies', 'active_set') if key in self.inputs}
        plan, parameters = self.ctx.seeded['plan'], self.ctx.round_parameters
        self.ctx.assessed = assess_pcc_boxes(plan, parameters, self.ctx.cohesive, **extra, **runs)

    def should_fall_back(self):
        """Whether no box of the first round is valid and the parameters name a second round."""
        return self.ctx.fallback is not None and self.ctx.assessed['figures']['chosen'] is None

    def fall_back(self):
        """Report the first round and set the second round's parameters (``fallback``)."""
        self._report_candidates()
        self.ctx.first_round = self.ctx.assessed['figures']
        self.ctx.round_parameters = orm.Dict(self.ctx.fallback)
        changed = ', '.join(f'{key} {value}' for key, value in self.ctx.parameters['fallback'].items())
        self.report(f'no box of the first round is valid: a second round with {changed}')

    def _report_candidates(self):
        for candidate in self.ctx.assessed['figures']['candidates']:
            status = 'valid' if candidate['valid'] else 'invalid: ' + '; '.join(candidate['problems'])
            energy = f'{candidate["energy_per_atom"]:.4f} eV/atom, {candidate["natoms"]} atoms' if 'natoms' in candidate else ''
            self.report(f'box {candidate["box"]} {candidate["lengths"]} A: {energy} {status}')

    def results(self):
        assessed = self.ctx.assessed
        for key in ('energy_map', 'energy_map_plot', 'figures'):
            self.out(key, assessed[key])
        if self._second_round():
            self.out('first_round_figures', self.ctx.first_round)
        figures = assessed['figures']
        self._report_candidates()
        if figures['chosen'] is None:
            rounds = [figures] + ([self.ctx.first_round] if self._second_round() else [])
            reasons = sorted({p for f in rounds for c in f['candidates'] for p in c['problems']})
            return self.exit_codes.ERROR_NO_VALID_CELL.format(reasons='; '.join(reasons))
        best = figures['candidates'][figures['chosen']]
        structure = assessed['structure']
        structure.base.extras.set_many(
            {f'dg_{key}': best.get(key) for key in FIGURE_EXTRAS}
            | {
                'dg_core_radius': figures['frozen']['core_radius'],
                'dg_trimmed': len(best['trimmed']),
                'dg_inserted_bcc': best['inserted_structure']['bcc'],
                'dg_inserted_structure': best['inserted_structure'],
                'dg_cluster': self.inputs.cluster.uuid,
                'dg_variant': 'pcc-gcmc',
            }
        )
        self.out('structure', structure)
        self.out('core', assessed['core'])
        change = best.get('environment_change')
        self.report(
            f'chose box {best["box"]}: {best["energy_per_atom"]:.4f} eV/atom, {best["natoms"]} atoms ({best["n_core"]} frozen, '
            f'{best["n_buffer"]} from the buffer, {best["n_inserted"]} inserted, {len(best["trimmed"])} cluster atoms trimmed); '
            + (
                f"central atom's descriptor changed by {change:.1e} (relative)"
                if change is not None
                else 'the cluster is cut smaller than the descriptor cutoff: its central environment could not be checked'
            )
            + f' -> {structure.pk}'
        )
        if best['max_abs_stress'] > STRESS_WARNING:
            self.report(
                f'warning: the cell holds {best["max_abs_stress"]:.1f} GPa (largest stress component): its mobile atoms '
                'are compressed around the frozen core; DFT labels of it describe a loaded material'
            )


class PccGcmcGroupWorkChain(WorkChain):
    """Run ``PccGcmcWorkChain`` on every cluster of a group, at most ``max_concurrent`` at a time, and
    add the cells to an output genome group. Clusters that fail are reported and skipped. A cluster cut
    by a selection is checked against the active set that selected it, unless ``active_set`` is given."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(PccGcmcWorkChain, exclude=('cluster', 'core_mask', 'cluster_info', 'source_energies'))
        spec.input('clusters', valid_type=orm.Str, help='Label of the group of clusters.')
        spec.input('output_group', valid_type=orm.Str, help='Label of the group to put the cells in (created if missing).')
        spec.input(
            'max_concurrent',
            valid_type=orm.Int,
            required=False,
            help='Clusters in flight at once; default: as many as keep the box jobs within the cores of a computer '
            'without a queue (`jobs_at_once`).',
        )
        spec.outline(
            cls.setup,
            if_(cls.needs_cohesive_energy)(cls.run_cohesive, cls.inspect_cohesive),
            while_(cls.has_more)(cls.submit_batch, cls.collect),
            cls.results,
        )
        spec.output('summary', valid_type=orm.Dict, help='Per cluster: the cell it became or why not.')
        spec.exit_code(201, 'ERROR_NO_CLUSTERS', message='Group `{label}` holds no StructureData cluster.')
        spec.exit_code(410, 'ERROR_NONE_SUCCEEDED', message='No cluster became a periodic cell; the first: {first}')
        spec.exit_code(411, 'ERROR_COHESIVE_ENERGY_FAILED', message='The LAMMPS run of the reference crystal failed: {message}')

    @classmethod
    def get_builder_from_protocol(
        cls, code, potential, clusters: str, *, protocol=None, overrides=None, options=None, output_group=None, max_concurrent=None
    ):
        """Return a builder for the clusters of group ``clusters`` with the parameters of ``protocol`` (``fast``,
        ``paper``) updated by ``overrides``; ``options``: ``metadata.options`` of the LAMMPS box runs; cells go to
        ``output_group`` (default ``<clusters>-periodic``)."""
        parameters = protocol_parameters(protocol, overrides)
        builder = cls.get_builder()
        builder.code, builder.potential, builder.clusters, builder.parameters = code, potential, orm.Str(clusters), parameters
        if options:
            builder.lammps_options = orm.Dict(options)
        builder.output_group = orm.Str(output_group or f'{clusters}-periodic')
        if max_concurrent:
            builder.max_concurrent = orm.Int(max_concurrent)
        return builder

    def setup(self):
        try:
            group = orm.load_group(self.inputs.clusters.value)
        except Exception:  # noqa: BLE001 - any lookup failure means the same thing to the user
            return self.exit_codes.ERROR_NO_CLUSTERS.format(label=self.inputs.clusters.value)
        self.ctx.todo = [node.uuid for node in group.nodes if isinstance(node, orm.StructureData)]
        if not self.ctx.todo:
            return self.exit_codes.ERROR_NO_CLUSTERS.format(label=self.inputs.clusters.value)
        self.ctx.summary = {}
        boxes = gcmc.validate_pcc_parameters(self.inputs.parameters.get_dict())['boxes']
        self.ctx.at_once = jobs_at_once(self.inputs.code, self.inputs.get('max_concurrent'), per_item=boxes)
        self.report(f'{len(self.ctx.todo)} clusters in `{group.label}`, {self.ctx.at_once} at a time')

    def needs_cohesive_energy(self) -> bool:
        """Whether the cohesive energy must be computed (once for the group: every cluster gets it)."""
        return 'cohesive_energy' not in self.inputs

    def run_cohesive(self):
        species = self.inputs.potential.species  # an EIP of one element; else the first cluster's
        element = species[0] if len(species) == 1 else orm.load_node(self.ctx.todo[0]).kinds[0].symbol
        return submit_cohesive_run(self, element)

    def inspect_cohesive(self):
        return cohesive_energy_from_run(self)

    def has_more(self):
        return bool(self.ctx.todo)

    def submit_batch(self):
        batch, self.ctx.todo = self.ctx.todo[: self.ctx.at_once], self.ctx.todo[self.ctx.at_once :]
        running = {}
        for uuid in batch:
            cluster = orm.load_node(uuid)
            inputs = AttributeDict(self.exposed_inputs(PccGcmcWorkChain))
            inputs.cluster = cluster
            if 'cohesive' in self.ctx:
                inputs.cohesive_energy = self.ctx.cohesive
            radius = cluster.base.extras.get('dg_cut_radius', None)
            if radius is not None:
                inputs.cluster_info = orm.Dict({'centre_index': cluster.base.extras.get('dg_centre', 0), 'cut_radius': radius})
            creator = cluster.creator
            if 'active_set' not in inputs and creator is not None and 'active_set' in creator.inputs:
                inputs.active_set = creator.inputs.active_set  # the one that selected it
            running[f'cluster_{cluster.pk}'] = self.submit(PccGcmcWorkChain, **inputs)
        return ToContext(**running)

    def collect(self):
        group, _ = GenomeGroup.collection.get_or_create(self.inputs.output_group.value)
        for key in [k for k in self.ctx if k.startswith('cluster_') and k[8:] not in self.ctx.summary]:
            process = self.ctx[key]
            pk = key[8:]
            if process.is_finished_ok:
                cell = process.outputs.structure
                group.add_nodes(cell)
                orm.load_node(int(pk)).base.extras.set('dg_periodic_cell', cell.uuid)
                self.ctx.summary[pk] = {'cell': cell.uuid, 'energy_per_atom': cell.base.extras.get('dg_energy_per_atom')}
            else:
                self.ctx.summary[pk] = {'failed': f'{process.exit_status}: {process.exit_message}'}
                self.report(f'cluster {pk}: {process.process_label}<{process.pk}> failed: {process.exit_message}')

    def results(self):
        self.out('summary', workflow_summary(orm.Dict(self.ctx.summary)))
        done = sum('cell' in s for s in self.ctx.summary.values())
        self.report(f'{done} of {len(self.ctx.summary)} clusters became periodic cells in `{self.inputs.output_group.value}`')
        if not done:
            first = next(iter(self.ctx.summary.values()))['failed']
            return self.exit_codes.ERROR_NONE_SUCCEEDED.format(first=first)
