"""``aiida-defectgenome genome``: import, list, show and export genome datasets."""

import collections
import json
import time

import click

from ..protocols import protocol_names
from . import cmd_root
from .utils import OUTPUT_FILE, load_profile_or_fail, user_errors


@cmd_root.group('genome')
def cmd_genome():
    """Genome datasets: groups of labelled configurations (energy, forces, stress)."""


@cmd_genome.command('import')
@click.argument('file', type=click.Path(dir_okay=False))
@click.option('--group', 'group_label', required=True, help='Genome group to put the configurations in.')
@click.option('--engine', default='DFT', show_default=True, help='Name of the code that made the labels, kept with them.')
@click.pass_context
@user_errors
def cmd_import(ctx, file, group_label, engine):
    """Import the labelled configurations of FILE into a genome group.

    FILE is extxyz or any format ASE reads with energy and forces (gzip, bzip2 and xz too).
    Importing the same file again adds nothing: configurations already stored are recognised.
    """
    load_profile_or_fail(ctx)
    from ..services.genome import import_genome

    start = time.perf_counter()
    report = import_genome(file, group_label, engine=engine)
    seconds = time.perf_counter() - start
    click.echo(
        f'Group `{report.group}`: {report.created} configurations imported, {report.reused} already stored '
        f'elsewhere and added, {report.present} already in the group ({seconds:.1f} s).'
    )
    if report.process_pk is not None:
        click.echo(f'Provenance: `verdi process show {report.process_pk}`.')


@cmd_genome.command('basic')
@click.option('--potential', required=True, metavar='NAME', help='EIP of the element (single-element).')
@click.option('--protocol', type=click.Choice(protocol_names('basic_set')), default='fast', show_default=True)
@click.option('--output', required=True, type=OUTPUT_FILE, help='extxyz of the configurations (no labels).')
@click.pass_context
@user_errors
def cmd_basic(ctx, potential, protocol, output):
    """Build the configurations of a basic set for the element of POTENTIAL: crystals under strain, hot and
    molten cells, point defects, surfaces, in the lattice of the element's ground state with this EIP.

    They carry no labels: label them with DFT (`aiida-defectgenome label OUT.extxyz --code gpaw@localhost
    --group GROUP`) or, as a surrogate, with a published potential (`--reference-labeler NAME`); GROUP is then
    the basic set of `campaign run --basic GROUP --potential POTENTIAL`.
    """
    load_profile_or_fail(ctx)
    import ase.io

    from ..core.lammps.basic_set import basic_configurations
    from ..data.potential_registry import (
        ground_state_lattice,
        ground_state_of,
        load_potential,
        potential_files,
        require_single_element,
    )
    from ..protocols import read_protocol

    node = load_potential(potential)
    try:
        require_single_element([node])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint='--potential') from exc
    lattice, a = ground_state_lattice(node)
    energy = ground_state_of(node)[lattice.name]['energy']
    _, settings = read_protocol('basic_set', protocol)
    start = time.perf_counter()
    with potential_files(node) as spec:
        frames = basic_configurations(spec, node.species[0], lattice, a, energy, settings)
    for atoms in frames:
        atoms.info.update(potential=potential, lattice=lattice.name)
    ase.io.write(output, frames, format='extxyz')
    kinds = collections.Counter(atoms.info['kind'] for atoms in frames)
    click.echo(
        f'{node.species[0]} {lattice.name} (a = {a:.4f} A, {energy:.4f} eV/atom): {len(frames)} configurations '
        f'({", ".join(f"{k} {n}" for k, n in kinds.items())}) in {output} ({time.perf_counter() - start:.0f} s).'
    )


@cmd_genome.command('list')
@click.pass_context
@user_errors
def cmd_list(ctx):
    """List the genome groups with the number of configurations in each."""
    load_profile_or_fail(ctx)
    from ..services.genome import list_genomes

    rows = list_genomes()
    if not rows:
        click.echo('No genome group yet: `aiida-defectgenome genome import FILE --group LABEL` makes one.')
    for label, count in rows:
        click.echo(f'{label:<30} {count:>8} configurations')


@cmd_genome.command('show')
@click.argument('label')
@click.option('--json', 'as_json', is_flag=True, help='Print the summary as JSON.')
@click.option('--provenance', 'uuid', metavar='UUID', help='Instead: the chain that made this configuration of LABEL.')
@click.pass_context
@user_errors
def cmd_show(ctx, label, as_json, uuid):
    """Summarise the genome group LABEL: configurations, atoms, elements and the labels present.

    With --provenance UUID (or its start): the chain potential -> loading -> snapshot -> centre atom -> box
    -> DFT run -> models of one configuration of LABEL, which may be any group of structures (sampled
    clusters, PCC-GCMC cells, a genome).
    """
    load_profile_or_fail(ctx)
    from ..services.genome import genome_summary

    if uuid:
        from aiida import orm

        from ..tools.provenance import provenance_chain

        try:
            group = orm.load_group(label)  # any group: sampled clusters and cells too
        except Exception as exc:  # noqa: BLE001 - NotExistent or MultipleObjectsError
            raise click.ClickException(f'no group `{label}`') from exc
        members = {node.uuid: node for node in group.nodes if isinstance(node, orm.StructureData)}
        found = [node for key, node in members.items() if key.startswith(uuid)]
        if len(found) != 1:
            raise click.ClickException(f'{"no" if not found else "more than one"} configuration of `{label}` has UUID {uuid}')
        steps = provenance_chain(found[0])
        if as_json:
            click.echo(json.dumps(steps, indent=2))
            return
        click.echo(f'Configuration {found[0].uuid} ({len(found[0].sites)} atoms) of `{label}`:')
        for step in steps:
            click.echo(f'  {step["step"]:<12} {step["text"]}')
        return

    summary = genome_summary(label)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f'Genome group:   {summary["label"]}')
    click.echo(f'Configurations: {summary["configurations"]}')
    click.echo(f'Atoms:          {summary["atoms"]} ({summary["atoms_min"]}-{summary["atoms_max"]} per configuration)')
    click.echo(f'Elements:       {", ".join(f"{k} {v}" for k, v in sorted(summary["elements"].items()))}')
    click.echo(f'Labels:         {", ".join(f"{k} {v}" for k, v in sorted(summary["labels"].items()))}')
    click.echo(f'Engines:        {", ".join(f"{k} {v}" for k, v in sorted(summary["engines"].items()))}')


@cmd_genome.command('stats')
@click.argument('labels', metavar='LABEL...', nargs=-1, required=True)
@click.option('--reference', metavar='GROUP', help='Grade every atom against the active set of this genome group.')
@click.option('--plot', type=OUTPUT_FILE, help='PNG of the gamma distributions (needs --reference).')
@click.option('--json', 'as_json', is_flag=True, help='Print the statistics as JSON.')
@click.pass_context
@user_errors
def cmd_stats(ctx, labels, reference, plot, as_json):
    """Statistics of genome groups: configurations, atoms, energy per atom and, with --reference, the
    distribution of the extrapolation grade gamma (as in the paper's Fig. 3e-f)."""
    if plot and not reference:
        raise click.UsageError('--plot needs --reference (the group whose active set grades the atoms)')
    load_profile_or_fail(ctx)
    from ..core.plots import plot_gamma_distributions
    from ..services.genome import genome_stats

    stats, gammas = genome_stats(list(labels), reference)
    if plot:
        plot_gamma_distributions(gammas, plot, title=f'extrapolation grade against `{reference}`')
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    click.echo(
        f'{"group":<24} {"configs":>8} {"atoms":>9} {"E/atom min..max (eV)":>24}'
        + ('  gamma median/p99/max  >1    >2' if reference else '')
    )
    for label, entry in stats.items():
        energy = entry.get('energy_per_atom')
        span = f'{energy["min"]:.3f}..{energy["max"]:.3f}' if energy else 'unlabelled'
        line = f'{label:<24} {entry["configurations"]:>8} {entry["atoms"]:>9} {span:>24}'
        if 'gamma' in entry:
            g = entry['gamma']
            line += f'  {g["median"]:.2f}/{g["p99"]:.2f}/{g["max"]:.2f}'
            line += f'  {100 * g["fraction_above_1"]:4.1f}% {100 * g["fraction_above_2"]:4.1f}%'
        click.echo(line)
    if plot:
        click.echo(f'Wrote {plot}.')


@cmd_genome.command('export')
@click.argument('label')
@click.option(
    '--format',
    'fmt',
    type=click.Choice(['extxyz', 'pacemaker', 'mlip3']),
    default='extxyz',
    show_default=True,
    help="extxyz, pacemaker's gzip-pickled DataFrame (.pckl.gzip), or MLIP-3's .cfg.",
)
@click.option('--output', required=True, type=OUTPUT_FILE, help='File to write.')
@click.pass_context
@user_errors
def cmd_export(ctx, label, fmt, output):
    """Write the genome group LABEL to a file: energy (eV), forces (eV/A), stress (eV/A^3) and each
    configuration's UUID (extxyz info key `uuid`; pacemaker column `name`)."""
    load_profile_or_fail(ctx)
    from ..services.genome import export_genome

    count = export_genome(label, output, format=fmt)
    click.echo(f'Wrote {count} configurations of `{label}` to {output}.')
