"""``aiida-defectgenome gamma``: the extrapolation grade of candidate structures against a reference set."""

import json
from pathlib import Path

import click

from . import cmd_root
from .utils import OUTPUT_FILE, load_profile_or_fail, user_errors


@cmd_root.command('gamma')
@click.option('--reference', 'reference', required=True, metavar='REF', help='Genome group label or structure file.')
@click.option('--candidates', 'candidates', required=True, metavar='CAND', help='Genome group label or structure file.')
@click.option('--json', 'json_path', type=OUTPUT_FILE, help='Write the results as JSON.')
@click.option('--plot', 'plot_path', type=OUTPUT_FILE, help='Write a PNG of the gamma PDFs.')
@click.option('--twojmax', default=6, show_default=True, type=click.IntRange(0, 16), help='SNAP band limit (6: m = 30).')
@click.option(
    '--cutoff', default=5.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help='Descriptor cutoff (A).'
)
@click.option('--tol', default=1.001, show_default=True, type=click.FloatRange(min=1, min_open=True), help='MaxVol tolerance.')
@click.option('--species', default='', metavar='A,B', help='Element of each LAMMPS atom type (dumps without elements).')
@click.pass_context
@user_errors
def cmd_gamma(ctx, reference, candidates, json_path, plot_path, twojmax, cutoff, tol, species):
    """Score every atom of CAND with the D-optimality extrapolation grade against the active set of REF.

    REF and CAND are each a genome group label or a file (extxyz, LAMMPS text dump, anything ASE reads;
    gzip too). For a group REF the active set is built once and reused while the group is unchanged;
    for a group CAND the grades are stored as extras (dg_gamma_max, dg_gamma_active_set) by a
    calcfunction, so the scoring has provenance. gamma <= 1 interpolates, > 1 extrapolates.
    """
    from ..core.doptimality.active_set import build_active_set
    from ..core.doptimality.descriptors import descriptor_from_parameters
    from ..core.doptimality.screening import grade_structures
    from ..core.structures.datasets import read_structures

    descriptor = {'name': 'snap', 'twojmax': twojmax, 'cutoff': cutoff}
    types = [s.strip() for s in species.split(',') if s.strip()]
    ref_is_file, cand_is_file = Path(reference).is_file(), Path(candidates).is_file()
    if not (ref_is_file and cand_is_file):
        load_profile_or_fail(ctx)
    ref_frames = read_structures(reference, types) if ref_is_file else None
    cand_frames = read_structures(candidates, types) if cand_is_file else None
    _check_elements(reference, ref_frames, candidates, cand_frames)
    node = stored_grades = reference_rows = None
    if ref_is_file and cand_is_file:
        builder = descriptor_from_parameters(descriptor)
        reference_rows, _ = builder.compute_many(ref_frames)
        active = build_active_set(reference_rows, builder.parameters, tol=tol)
        origin = 'built in memory'
    else:
        from ..services.d_optimality import active_set_for_file, active_set_for_group

        if ref_is_file:
            node, reused = active_set_for_file(reference, descriptor, tol, types), False
        else:
            node, reused = active_set_for_group(reference, descriptor, tol)
        active = node.get_active_set()
        origin = f'{"reused" if reused else "stored as"} node {node.pk}'
    click.echo(
        f'Active set of `{reference}`: {active.size} rows ({active.descriptor["name"]}, twojmax {twojmax}, '
        f'cutoff {cutoff} A) from {active.pool_size} atoms, {origin}'
        + (f'; regularised with {active.virtual_rows} virtual rows.' if active.regularised else '.')
    )
    if cand_is_file:
        grades = grade_structures(active, cand_frames)
        sources = [None] * len(cand_frames)
    else:
        from ..services.d_optimality import grade_group, grades_of

        stored_grades = grade_group(node, candidates)
        grades = grades_of(stored_grades)
        sources = stored_grades.base.attributes.get('structures')
    result = {
        'reference': reference,
        'candidates': candidates,
        'descriptor': active.descriptor['name'],
        'm': active.size,
        'descriptor_parameters': active.descriptor,
        'active_set_size': active.size,
        'active_set_uuid': node.uuid if node is not None else None,
        'regularised_rows': active.virtual_rows,
        'configurations': [
            {'index': i, 'natoms': int(n), 'gamma_max': float(g), **({'uuid': u} if u else {})}
            for i, (n, g, u) in enumerate(zip(grades.counts, grades.maxima, sources))
        ],
        'atoms': int(grades.counts.sum()),
        'gamma_max': float(grades.gamma.max()),
        'fraction_above_1': grades.fraction_above(1.0),
        'fraction_above_2': grades.fraction_above(2.0),
    }
    click.echo(
        f'Candidates `{candidates}`: {len(grades.counts)} configurations, {result["atoms"]} atoms; '
        f'gamma max {result["gamma_max"]:.3f}; fraction of atoms with gamma > 1: {result["fraction_above_1"]:.4f}, '
        f'> 2: {result["fraction_above_2"]:.4f}.'
    )
    if stored_grades is not None:
        click.echo(f'Stored gamma as extras of the configurations (dg_gamma_max); grades node {stored_grades.pk}.')
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2))
        click.echo(f'Wrote {json_path}.')
    if plot_path:
        from ..core.plots import plot_gamma_distributions

        if reference_rows is None and ref_is_file:
            reference_rows, _ = descriptor_from_parameters(active.descriptor).compute_many(ref_frames)
        elif reference_rows is None:
            from ..services.d_optimality import group_descriptor_rows

            reference_rows = group_descriptor_rows(reference, active.descriptor)
        sets = {
            f'reference {reference}': active.grade(reference_rows),
            f'candidates {candidates}': grades.gamma,
        }
        plot_gamma_distributions(sets, plot_path, title=f'D-optimality grade against `{reference}`')
        click.echo(f'Wrote {plot_path}.')


def _check_elements(reference: str, ref_frames, candidates: str, cand_frames) -> None:
    """Refuse candidates with elements the reference lacks: the descriptor is blind to the element, so their
    grades would compare unlike atoms (Cu against W gives gamma ~1e6, meaning nothing)."""

    def elements(label, frames):
        if frames is not None:
            return {symbol for atoms in frames for symbol in atoms.get_chemical_symbols()}
        from ..common.structures import group_elements

        return group_elements(label)

    known, wanted = elements(reference, ref_frames), elements(candidates, cand_frames)
    if wanted - known:
        raise click.ClickException(
            f'`{candidates}` holds {", ".join(sorted(wanted - known))}, which `{reference}` has no atom of '
            f'(it holds {", ".join(sorted(known)) or "nothing"}): grade against a reference of the same elements'
        )
