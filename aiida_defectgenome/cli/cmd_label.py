"""``aiida-defectgenome label``: DFT labels (energy, forces, stress) for a group or a structure file."""

from pathlib import Path

import click

from ..protocols import protocol_names
from . import cmd_root
from .utils import OUTPUT_FILE, load_code_or_fail, load_profile_or_fail, run_or_fail, user_errors


@cmd_root.command('label')
@click.argument('input_', metavar='INPUT')
@click.option('--engine', type=click.Choice(['gpaw', 'vasp']), help="DFT engine (default: the code's, gpaw for gpaw@localhost).")
@click.option('--protocol', type=click.Choice(protocol_names('dft_labeling')), default='moderate', show_default=True)
@click.option(
    '--group', 'output_group', metavar='OUTGROUP', help='Genome group of the labelled configurations (default: INPUT-labelled).'
)
@click.option('--output', type=OUTPUT_FILE, help='OUT.extxyz with energy, forces, stress.')
@click.option('--code', help='DFT code (default gpaw@localhost; required for vasp).')
@click.option('--potential-family', help='VASP: POTCAR family (aiida-vasp potcar uploadfamily).')
@click.option(
    '--max-concurrent',
    type=click.IntRange(min=1),
    help='DFT runs at a time (default: the cores of a computer without a queue, such as localhost; else 50).',
)
@click.option(
    '--reference-labeler',
    metavar='POTENTIAL',
    help='Label with this registered potential instead of DFT (a surrogate, e.g. snap-W); its labels are kept apart '
    'from DFT labels. Not with --engine, --code or --potential-family.',
)
@click.option(
    '--python-code', default='python@localhost', show_default=True, help='With --reference-labeler: the Python that runs it.'
)
@click.pass_context
@user_errors
def cmd_label(
    ctx, input_, engine, protocol, output_group, output, code, potential_family, max_concurrent, reference_labeler, python_code
):
    """Label the configurations of INPUT with DFT (GPAW or VASP) through the DftLabelingWorkChain.

    INPUT is a group label or a structure file (any format ASE reads; its frames are stored as a new
    group named after the file). Configurations already labelled with the same settings are not run
    again. OUT.extxyz carries each configuration's DFT energy (eV), forces (eV/A) and stress in ASE's
    conventions, readable with `ase.io.read(...).get_potential_energy()`.
    """
    load_profile_or_fail(ctx)
    from ..workflows.dft_labeling import DftLabelingWorkChain, engine_of

    if reference_labeler:
        if engine or code or potential_family:
            raise click.UsageError('--reference-labeler labels without DFT: leave out --engine, --code and --potential-family')
        from ..data.potential_registry import load_potential

        reference = load_potential(reference_labeler)
        python = load_code_or_fail(python_code, '--python-code')
        configurations = _configurations_group(input_)
        builder = DftLabelingWorkChain.get_builder_from_protocol(python, configurations, reference_potential=reference)
        _run_and_report(builder, output_group or f'{configurations}-labelled', max_concurrent, output)
        return
    if engine == 'vasp' and not (code and potential_family):
        raise click.UsageError('--engine vasp needs --code (a vasp.vasp code) and --potential-family')
    dft_code = load_code_or_fail(code or 'gpaw@localhost', '--code')
    try:
        engine = engine_of(dft_code, engine)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint='--engine/--code') from exc
    if engine == 'vasp' and not potential_family:
        raise click.UsageError(f'{dft_code.full_label} runs VASP: give --potential-family (aiida-vasp potcar uploadfamily)')
    configurations = _configurations_group(input_)
    builder = DftLabelingWorkChain.get_builder_from_protocol(
        dft_code, configurations, protocol=protocol, engine=engine, potential_family=potential_family
    )
    _run_and_report(builder, output_group or f'{configurations}-labelled', max_concurrent, output)


def _run_and_report(builder, output_group: str, max_concurrent: int | None, output) -> None:
    """Run the labelling ``builder`` into ``output_group``; say what it labelled; write ``output`` if asked."""
    from aiida import orm

    from ..services.genome import export_genome

    builder.output_group = orm.Str(output_group)
    if max_concurrent:
        builder.max_concurrent = orm.Int(max_concurrent)
    results, node = run_or_fail(builder)
    summary = results['summary'].get_dict()
    click.echo(
        f'{node.process_label}<{node.pk}>: labelled {len(summary["labelled"])}, '
        f'already labelled {len(summary["skipped"])}, failed {len(summary["failed"])} -> group `{builder.output_group.value}`.'
    )
    for uuid, message in summary['failed'].items():
        click.echo(f'  failed: {uuid}: {message}', err=True)
    if output:
        count = export_genome(builder.output_group.value, output)
        click.echo(f'Wrote {count} configurations to {output}.')


def _configurations_group(input_: str) -> str:
    """Return the label of the group to label: INPUT itself, or a new group holding INPUT's frames."""
    from aiida import orm

    from ..common.structures import structure_from_atoms
    from ..core.structures.datasets import read_structures

    path = Path(input_)
    if not path.is_file():
        try:
            orm.load_group(input_)
        except Exception as exc:  # noqa: BLE001 - NotExistent or MultipleObjectsError
            raise click.ClickException(f'INPUT `{input_}` is neither a file nor a group label') from exc
        return input_
    label = path.name.split('.')[0]
    if orm.QueryBuilder().append(orm.Group, filters={'label': label}).count():
        raise click.ClickException(f'a group `{label}` exists already: give its label as INPUT, or rename {path.name}')
    group = orm.Group(label=label, description=f'configurations read from {path}').store()
    group.add_nodes([structure_from_atoms(atoms).store() for atoms in read_structures(path)])
    click.echo(f'Stored {len(group.nodes)} configurations of {path} in group `{label}`.')
    return label
