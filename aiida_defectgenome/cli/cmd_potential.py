"""``aiida-defectgenome potential``: list and register interatomic potentials."""

import click

from . import cmd_root
from .utils import load_profile_or_fail, user_errors


@cmd_root.group('potential')
def cmd_potential():
    """Interatomic potentials (EAM, MEAM, ...) that LAMMPS runs use, by name."""


@cmd_potential.command('list')
@click.pass_context
@user_errors
def cmd_list(ctx):
    """List the stored potentials (the bundled ones appear once used or after `setup`)."""
    load_profile_or_fail(ctx)
    from ..data.potential_registry import list_potentials

    rows = list_potentials()
    if not rows:
        click.echo('No potential stored yet: run `aiida-defectgenome setup` to register the bundled ones.')
        return
    click.echo(f'{"name":<20} {"pk":>6}  {"species":<12} {"pair style":<14} files')
    for node in rows:
        click.echo(f'{node.label:<20} {node.pk:>6}  {" ".join(node.species):<12} {node.pair_style:<14} {" ".join(node.filenames)}')


@cmd_potential.command('register')
@click.argument('files', nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option('--name', required=True, help='Name that later commands take in --potential NAME.')
@click.option(
    '--species',
    multiple=True,
    required=True,
    help='Element the potential describes; repeat for several (e.g. --species Cu --species Ni). Each must be one the '
    'file describes (setfl, funcfl, MEAM library and SNAP files are read); any order, since LAMMPS maps atom types to '
    "the file's elements by name. The first is the element that single-element scenarios build.",
)
@click.option('--pair-style', required=True, help='LAMMPS pair_style line without the keyword, e.g. `eam/alloy`.')
@click.option(
    '--pair-coeff',
    default='',
    help='pair_coeff template, with {files}, {files[0]}, {species} and {elements} (element of each atom type). '
    'Default by pair style: `* * {files} {elements}`; meam: `* * {files[0]} {species} {files[1] or NULL} {elements}`. '
    'Several lines (hybrid/overlay styles): separate them with `;`.',
)
@click.option('--citation', default='', help='Reference to cite when the potential is used.')
@click.pass_context
@user_errors
def cmd_register(ctx, files, name, species, pair_style, pair_coeff, citation):
    """Store the potential FILES (one or more) under a name.

    The files are copied into the database, so runs and archives carry them. Where the file format
    lists its elements (setfl eam/alloy, eam/fs; MEAM library; SNAP coefficients), every --species
    is checked against it.
    """
    load_profile_or_fail(ctx)
    from ..data.potential_registry import register_potential

    node, created = register_potential(files, name, species, pair_style, pair_coeff, citation)
    if created:
        click.echo(f'Registered potential `{name}` (pk {node.pk}): {" ".join(node.pair_commands(node.species))}')
    else:
        click.echo(f'Potential `{name}` is already registered with these files (pk {node.pk}); nothing changed.')
