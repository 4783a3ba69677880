"""``aiida-defectgenome sample``: EIP simulations under many loadings, screened by gamma, as clusters."""

import time
from pathlib import Path

import click

from ..core.lammps.sampling_plan import SCENARIOS, scenario_names
from ..protocols import protocol_names
from . import cmd_root
from .utils import OUTPUT_FILE, load_code_or_fail, load_profile_or_fail, run_or_fail, user_errors


@cmd_root.command('sample')
@click.option('--potential', 'potentials', required=True, multiple=True, metavar='NAME', help='EIP (repeat for several).')
@click.option('--scenarios', required=True, help=f'Comma-separated: {", ".join(SCENARIOS)}, or all.')
@click.option('--reference', metavar='GROUP', help='Genome group of the basic DFT set (its active set grades).')
@click.option(
    '--mtp',
    metavar='NAME',
    help='Instead of --reference: a trained MTP (train --trainer mtp; al_mode nbh) whose own active set grades, by mlp.',
)
@click.option('--mlp-code', default='mlp@localhost', show_default=True, help="MLIP-3's mlp, next to the dumps (with --mtp).")
@click.option('--protocol', type=click.Choice(protocol_names('eip_sampling')), default='fast', show_default=True)
@click.option('--group', 'output_group', required=True, metavar='OUTGROUP', help='Group that receives the clusters.')
@click.option('--output', type=OUTPUT_FILE, help='clusters.extxyz (core, centre, gamma, source).')
@click.option('--threshold', default=2.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help='Gamma threshold.')
@click.option('--limit', type=click.IntRange(min=1), help='At most this many clusters per run.')
@click.option('--radius', default=8.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help='Cut radius (A).')
@click.option('--lammps-code', default='lammps@localhost', show_default=True)
@click.option(
    '--selection-code', default='python@localhost', show_default=True, help='Python with this package, next to the dumps.'
)
@click.option(
    '--max-concurrent',
    type=click.IntRange(min=1),
    help='LAMMPS runs at once (default: the cores of a computer without a queue, such as localhost; else 50).',
)
@click.option('--submit', is_flag=True, help='Submit to the daemon and return (default: run here and wait).')
@click.pass_context
@user_errors
def cmd_sample(
    ctx,
    potentials,
    scenarios,
    reference,
    mtp,
    mlp_code,
    protocol,
    output_group,
    output,
    threshold,
    limit,
    radius,
    lammps_code,
    selection_code,
    max_concurrent,
    submit,
):
    """Run the EipSamplingWorkChain: every scenario with every potential, snapshots graded against the
    active set of REFERENCE (or of the MTP given by --mtp) where they were dumped, the new environments cut
    out as clusters.

    Each cluster lands in OUTGROUP with extras naming its scenario, loading, potential, snapshot, central
    atom and gamma; --output writes them as extxyz (per-atom `core`, info `centre`, `gamma`, `scenario`,
    `variant`, `potential`, `snapshot`, `step`, `source_atom`).
    """
    if submit and output:
        raise click.UsageError('--output needs the clusters: leave out --submit, or export the group later')
    if bool(reference) == bool(mtp):
        raise click.UsageError('grade against --reference GROUP (its active set) or --mtp NAME (a trained MTP), one of them')
    try:
        names = [name.strip() for name in scenarios.split(',') if name.strip()]
        scenario_names(names)  # every name known; `all` is expanded in the potential's lattice, below
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint='--scenarios') from exc
    load_profile_or_fail(ctx)
    from aiida import orm
    from aiida.engine import submit as submit_process

    from ..data.potential_registry import ground_state_lattice, load_potential, require_potentials, require_single_element
    from ..services.d_optimality import active_set_for_group
    from ..services.genome import load_genome
    from ..workflows.eip_sampling import EipSamplingWorkChain

    if reference:
        load_genome(reference)  # before the active set is built (minutes for a large set)
    require_potentials(potentials + ((mtp,) if mtp else ()))
    eips = [load_potential(name) for name in potentials]
    try:
        require_single_element(eips)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint='--potential') from exc
    lattice, a = ground_state_lattice(eips[0])  # before the active set (minutes): the scenarios are built in it
    try:
        scenario_names(names, lattice)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint='--scenarios') from exc
    click.echo(
        f'{eips[0].species[0]} with {eips[0].name}: {lattice.name}, a = {a:.4f} A'
        + (f', c/a = {lattice.c_over_a:.4f}' if lattice.name == 'hcp' else '')
    )
    codes = [load_code_or_fail(label) for label in (lammps_code, selection_code)]
    grading = {'active_set': active_set_for_group(reference)[0]} if reference else _mtp_grading(mtp, mlp_code, eips)
    selection = {'threshold': threshold, 'radius': radius, **({'limit': limit} if limit else {})}
    builder = EipSamplingWorkChain.get_builder_from_protocol(
        *codes, eips, protocol=protocol, scenarios=names, output_group=output_group, selection=selection, **grading
    )
    if max_concurrent:
        builder.max_concurrent = orm.Int(max_concurrent)
    if submit:
        node = submit_process(builder)
        click.echo(f'Submitted {node.process_label}<{node.pk}>: follow it with `verdi process report {node.pk}`.')
        return
    start = time.perf_counter()
    results, node = run_or_fail(builder)
    summary = results['summary'].get_dict()
    click.echo(
        f'{node.process_label}<{node.pk}>: {summary["clusters"]} clusters from {len(summary["runs"])} runs in group '
        f'`{output_group}` ({time.perf_counter() - start:.0f} s).'
    )
    if output:
        count = _write_clusters(orm.load_group(output_group), Path(output))
        click.echo(f'Wrote {count} clusters to {output}.')


def _mtp_grading(name: str, mlp_code: str, eips) -> dict:
    """Return the builder arguments that grade with the MTP ``name``; a click error when it cannot."""
    from ..calculations.selection import SelectionCalculation
    from ..data.potential_registry import load_potential

    mtp = load_potential(name)
    problem = SelectionCalculation.spec().inputs['mtp'].validator(mtp, None)
    missing = sorted({e for eip in eips for e in eip.species} - set(mtp.species))
    if problem or missing:
        raise click.BadParameter(problem or f'{name} knows {", ".join(mtp.species)}, not {", ".join(missing)}', param_hint='--mtp')
    return {'mtp': mtp, 'mlp_code': load_code_or_fail(mlp_code, '--mlp-code')}


def _write_clusters(group, path: Path) -> int:
    import ase.io
    import numpy as np

    frames = []
    for node in group.nodes:
        atoms = node.get_ase()
        extras = node.base.extras.all
        atoms.arrays['core'] = np.ones(len(atoms), dtype=bool)
        atoms.info.update(
            {key[3:]: value for key, value in extras.items() if key.startswith('dg_') and not isinstance(value, (dict, list))}
        )
        atoms.info['uuid'] = node.uuid
        frames.append(atoms)
    ase.io.write(path, frames, format='extxyz')
    return len(frames)
