"""``aiida-defectgenome pcc-gcmc``: a cluster (or a group of them) -> vacuum-free periodic cell(s)."""

import json
import time
from pathlib import Path

import click

from ..protocols import protocol_names
from . import cmd_root
from .utils import OUTPUT_FILE, load_code_or_fail, load_profile_or_fail, user_errors


@cmd_root.command('pcc-gcmc')
@click.argument('cluster_file', required=False, type=click.Path(exists=True, dir_okay=False))
@click.option('--potential', required=True, metavar='NAME', help='Registered (or bundled) EIP, e.g. eam-zhou-W.')
@click.option('--protocol', type=click.Choice(protocol_names('pcc_gcmc')), default='fast', show_default=True)
@click.option('--output', 'output', type=OUTPUT_FILE, help='OUT.extxyz: the chosen cell.')
@click.option('--json', 'json_path', type=OUTPUT_FILE, help='OUT.json: every candidate.')
@click.option('--group', 'group', metavar='LABEL', help='Run on every cluster of this group instead of a file.')
@click.option('--output-group', metavar='LABEL', help='Group for the cells of --group (default: LABEL-periodic).')
@click.option('--max-atoms', type=click.IntRange(min=1), help='Largest cell (atoms); default 150.')
@click.option(
    '--core-radius',
    type=click.FloatRange(min=0, min_open=True),
    metavar='R',
    help='Freeze the atoms within R (A) of the central atom (line); default: descriptor cutoff + 1.5 A (6.5 A).',
)
@click.option(
    '--max-concurrent',
    type=click.IntRange(min=1),
    help='Clusters at once (--group; default: as many as keep their box jobs within the cores of a computer '
    'without a queue, such as localhost).',
)
@click.option('--code', default='lammps@localhost', show_default=True, help='LAMMPS code.')
@click.pass_context
@user_errors
def cmd_pcc_gcmc(
    ctx, cluster_file, potential, protocol, output, json_path, group, output_group, max_atoms, core_radius, max_concurrent, code
):
    """Build a vacuum-free periodic cell around the frozen core of a cluster (PCC-GCMC).

    The frozen core is the central atom's environment: the atoms within --core-radius of it (of its line
    when the cluster is periodic); the rest of the cluster is a buffer that seeds the crystal around the
    core, is trimmed where the box cuts it, and relaxes. CLUSTER_FILE is extxyz: the central atom in
    info `centre` (or `centre_index`; absent: the atom nearest the middle), an optional per-atom boolean
    `core` array (the atoms that may be frozen; absent: all), `cut_radius` (A) in info, periodic axes
    given by the pbc flags (the cell length along a periodic axis is the period), optional per-atom
    `energies` (eV) from the source simulation for the gap to the ideal embedding. The cell is written to
    --output with its frozen atoms marked (`core`), the cluster atom each atom came from (`source_index`,
    -1 for inserted ones), info `centre` and its energy; --json holds every candidate box, the chosen one,
    the figures of merit, the cluster atoms that were `trimmed` and the wall time. When no box is valid, a
    second round of boxes runs with the protocol's `fallback` parameters (by default: the box kept, the
    mobile atoms annealed); its first round is then under `first_round` in --json. With --group, every
    cluster of the group becomes a cell in --output-group. Everything runs as AiiDA workflows on the
    current profile (provenance kept).
    """
    if bool(cluster_file) == bool(group):
        raise click.UsageError('give either CLUSTER_FILE or --group')
    if cluster_file and not output:
        raise click.UsageError('--output OUT.extxyz is required with CLUSTER_FILE')
    load_profile_or_fail(ctx)
    from aiida import orm

    from ..core.pcc_gcmc.gcmc import validate_pcc_parameters
    from ..data.potential_registry import described_potential, load_potential
    from ..tools.launch import run_get_node
    from ..workflows.pcc_gcmc import PccGcmcGroupWorkChain, PccGcmcWorkChain, load_protocol, plan_cluster

    overrides = {'max_atoms': max_atoms} if max_atoms else {}
    if core_radius:
        overrides['core_radius'] = core_radius
    parameters = validate_pcc_parameters({**load_protocol(protocol)[1], **overrides})  # a bad option: one line, nothing run
    lammps = load_code_or_fail(code, '--code')
    described = described_potential(potential)
    if cluster_file:  # a bad cluster: one line, nothing stored
        inputs = _cluster_inputs(Path(cluster_file))
        plan_cluster(inputs['cluster'], described, parameters, inputs.get('core_mask'), inputs.get('cluster_info'))
    eip = load_potential(potential)
    start = time.perf_counter()
    if group:
        builder = PccGcmcGroupWorkChain.get_builder_from_protocol(
            lammps, eip, group, protocol=protocol, overrides=overrides, output_group=output_group, max_concurrent=max_concurrent
        )
        results, node = run_get_node(builder)
        _finish(node, {'summary': results.get('summary', orm.Dict()).get_dict()}, json_path, start)
        click.echo(f'{node.process_label}<{node.pk}>: cells in group `{builder.output_group.value}`.')
        return
    builder = PccGcmcWorkChain.get_builder_from_protocol(lammps, eip, protocol=protocol, overrides=overrides, **inputs)
    results, node = run_get_node(builder)
    figures = results['figures'].get_dict() if 'figures' in results else {}
    report = {**figures, 'workchain': node.uuid, 'protocol': protocol, 'cluster': inputs['cluster'].uuid}
    if 'first_round_figures' in results:
        report['first_round'] = results['first_round_figures'].get_dict()['candidates']
    if 'structure' in results:
        best = figures['candidates'][figures['chosen']]
        report['figures_of_merit'] = best
        report['trimmed'] = best['trimmed']
        report['structure'] = results['structure'].uuid
        _write_cell(results['structure'], results['core'], best['energy'], Path(output))
        if 'first_round' in report:
            click.echo('No box of the first round was valid; this cell is from the second (box kept, mobile atoms annealed).')
        click.echo(
            f'Chose box {best["box"]}: {best["natoms"]} atoms ({best["n_inserted"]} inserted), '
            f'{best["energy_per_atom"]:.4f} eV/atom'
            + (f', {best["ideal_gap"]:+.4f} eV/atom from the ideal embedding' if 'ideal_gap' in best else '')
            + f', largest stress {best["max_abs_stress"]:.1f} GPa -> {output} (node {results["structure"].pk}).'
        )
    _finish(node, report, json_path, start)


def _cluster_inputs(path: Path) -> dict:
    """Read CLUSTER_FILE into the workchain's inputs, with a clear error for what does not fit."""
    import ase.io
    import numpy as np
    from aiida import orm

    from ..common.structures import structure_from_atoms

    try:
        atoms = ase.io.read(path, index=0)
    except Exception as exc:  # noqa: BLE001 - ASE raises many kinds for an unreadable file
        raise click.ClickException(f'{path}: not a structure file ASE can read ({exc})') from exc
    inputs = {'cluster': structure_from_atoms(atoms)}
    core = atoms.arrays.get('core')
    if core is not None:
        core = np.asarray(core, dtype=bool)
        if not core.any():
            raise click.ClickException(f'{path}: the `core` array marks no atom')
        mask = orm.ArrayData()
        mask.set_array('core', core)
        inputs['core_mask'] = mask
    energies = atoms.arrays.get('energies')
    if energies is None and atoms.calc is not None:
        energies = atoms.calc.results.get('energies')
    if energies is not None:
        source = orm.ArrayData()
        source.set_array('energies', np.asarray(energies, dtype=float))
        inputs['source_energies'] = source
    info = {key: atoms.info[key] for key in ('centre_index', 'cut_radius') if key in atoms.info}
    if 'centre_index' not in info and 'centre' in atoms.info:
        info['centre_index'] = atoms.info['centre']
    if 'centre_index' in info and not (
        isinstance(info['centre_index'], (int, np.integer)) and 0 <= info['centre_index'] < len(atoms)
    ):
        centre = info['centre_index']
        centre = int(centre) if isinstance(centre, (int, np.integer)) else repr(centre)
        raise click.ClickException(f'{path}: the central atom {centre} is not an atom index of this {len(atoms)}-atom cluster')
    if info:
        inputs['cluster_info'] = orm.Dict(info)
    return inputs


def _write_cell(structure, core, energy: float, path: Path) -> None:
    import ase.io
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = structure.get_ase()
    atoms.arrays['core'] = core.get_array('core')
    atoms.arrays['source_index'] = core.get_array('source_index')
    atoms.info['centre'] = 0
    atoms.info['aiida_uuid'] = structure.uuid
    atoms.calc = SinglePointCalculator(atoms, energy=energy)  # written as the frame's `energy`
    ase.io.write(path, atoms, format='extxyz')


def _finish(node, report: dict, json_path, start: float) -> None:
    report['wall_time_s'] = round(time.perf_counter() - start, 2)
    report['exit_status'] = node.exit_status
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=1, default=str))
    if not node.is_finished_ok:
        raise click.ClickException(
            f'{node.process_label}<{node.pk}> failed: {node.exit_message} (see `verdi process report {node.pk}`)'
        )
