"""``aiida-defectgenome campaign``: run a whole campaign (DefectGenomeWorkChain) and follow it."""

import json
import time

import click

from ..protocols import protocol_names
from . import cmd_root
from .utils import OUTPUT_FILE, load_code_or_fail, load_node_or_fail, load_profile_or_fail, run_or_fail, user_errors


@cmd_root.group('campaign')
def cmd_campaign():
    """Whole campaigns: EIP sampling -> PCC-GCMC -> DFT -> training -> active learning."""


@cmd_campaign.command('run')
@click.option('--protocol', type=click.Choice(protocol_names('campaign')), default='demo', show_default=True)
@click.option('--basic', 'basic_group', default='W-basic', show_default=True, metavar='GROUP', help='Labelled basic set.')
@click.option(
    '--potential',
    'potentials',
    multiple=True,
    metavar='NAME',
    help="EIP of the sampling (repeat for several; default: the protocol's, W). The first also makes the PCC-GCMC cells.",
)
@click.option('--group-prefix', help='Prefix of the campaign groups (default: <protocol>-<date>-<time>).')
@click.option('--lammps-code', default='lammps@localhost', show_default=True)
@click.option('--python-code', default='python@localhost', show_default=True, help='Python with this package.')
@click.option('--dft-code', default='gpaw@localhost', show_default=True, help='GPAW or VASP code, as the protocol asks.')
@click.option('--potential-family', help='VASP: the POTCAR family (aiida-vasp potcar uploadfamily).')
@click.option(
    '--reference-labeler',
    metavar='POTENTIAL',
    help='Label with this registered potential (e.g. meam-W) instead of DFT: a surrogate for trying the machinery '
    'in minutes; the basic set is copied and labelled by it too, and its labels are never mixed with DFT labels.',
)
@click.option('--submit', is_flag=True, help='Submit to the daemon and return (default: run here and wait).')
@click.option(
    '--max-active',
    type=click.IntRange(min=1),
    help='Throttle: with this many campaigns not yet finished in the profile, wait (--wait) or refuse.',
)
@click.option('--wait', is_flag=True, help='With --max-active: wait for a free slot (checked every 30 s) instead of refusing.')
@click.pass_context
@user_errors
def cmd_run(
    ctx,
    protocol,
    basic_group,
    potentials,
    group_prefix,
    lammps_code,
    python_code,
    dft_code,
    potential_family,
    reference_labeler,
    submit,
    max_active,
    wait,
):
    """Run the DefectGenomeWorkChain with PROTOCOL on the basic set GROUP.

    The bundled W basic set is imported as `W-basic` first when that group is missing. With --submit the
    campaign goes to the daemon (start it with `verdi daemon start`); follow it with
    `aiida-defectgenome campaign status PK`.
    """
    if wait and not max_active:
        raise click.UsageError('--wait needs --max-active')
    load_profile_or_fail(ctx)
    from aiida.engine import submit as submit_process

    from ..tools.campaign import active_campaigns, campaign_status

    while max_active and len(active := active_campaigns()) >= max_active:
        if not wait:
            raise click.ClickException(
                f'{len(active)} campaigns are not finished yet ({", ".join(map(str, active))}), --max-active {max_active}: '
                'add --wait to queue this one'
            )
        click.echo(f'{len(active)} campaigns active, waiting for a slot ...')
        time.sleep(30)
    from ..workflows.campaign import DefectGenomeWorkChain

    codes = [load_code_or_fail(label) for label in (lammps_code, python_code)]
    codes.append(None if reference_labeler else load_code_or_fail(dft_code))
    if reference_labeler:
        from ..data.potential_registry import load_potential

        load_potential(reference_labeler)  # an unknown name stops here, before anything is imported or stored
    if potentials:
        from ..data.potential_registry import require_potentials

        require_potentials(potentials)
    _ensure_basic_set(basic_group)
    extra = {'potential_family': potential_family} if potential_family else {}
    try:
        builder = DefectGenomeWorkChain.get_builder_from_protocol(
            *codes,
            basic_group=basic_group,
            protocol=protocol,
            group_prefix=group_prefix,
            reference_labeler=reference_labeler,
            overrides={'potentials': list(potentials)} if potentials else None,
            **extra,
        )
    except ValueError as exc:  # a protocol that cannot be built (a multi-element potential, ...)
        raise click.ClickException(str(exc)) from exc
    if submit:
        node = submit_process(builder)
        click.echo(f'Submitted {node.process_label}<{node.pk}>: `aiida-defectgenome campaign status {node.pk}`.')
        return
    start = time.perf_counter()
    _, node = run_or_fail(builder)
    _echo_status(campaign_status(node))
    click.echo(f'Finished in {time.perf_counter() - start:.0f} s.')


@cmd_campaign.command('status')
@click.argument('pk', type=int)
@click.option('--json', 'as_json', type=OUTPUT_FILE, help='Also write the status as JSON.')
@click.pass_context
@user_errors
def cmd_status(ctx, pk, as_json):
    """Live summary of campaign PK: stage, round, groups and counts, running jobs, gamma_max trend, failures."""
    load_profile_or_fail(ctx)
    from aiida import orm

    from ..tools.campaign import campaign_status

    node = load_node_or_fail(pk, orm.WorkflowNode, 'a campaign (a work chain)')
    status = campaign_status(node)
    _echo_status(status)
    if as_json:
        with open(as_json, 'w') as handle:
            json.dump(status, handle, indent=1)


def _ensure_basic_set(label: str) -> None:
    """Import the bundled W basic set as ``W-basic`` when asked for and missing; else the group must exist."""
    from aiida import orm

    from ..services.genome import import_genome
    from ..tools.demo import BASIC_W_DATASET

    if orm.QueryBuilder().append(orm.Group, filters={'label': label}).count():
        return
    if label != 'W-basic':
        raise click.ClickException(f'no group `{label}`: import the basic set with `aiida-defectgenome genome import`')
    report = import_genome(BASIC_W_DATASET, label, engine='VASP')
    click.echo(f'Imported the W basic set into `{label}` ({report.created} configurations).')


def _echo_status(status: dict) -> None:
    state = status['state'] + (f' [{status["exit_status"]}]' if status['exit_status'] is not None else '')
    click.echo(f'{status["process"]}<{status["pk"]}>: {state}; stage {status["stage"]}; training rounds {status["round"]}')
    if status['exit_message']:
        click.echo(f'  exit message: {status["exit_message"]}')
    if status['labels']:
        click.echo(f'  labels by: {status["labels"]}')
    for label, count in status['groups'].items():
        click.echo(f'  group {label:<60} {count:>5} structures')
    for job in status['running']:
        click.echo(f'  running {job["process"]}<{job["pk"]}> ({job["state"]})')
    for job in status.get('orphans', []):
        click.echo(
            f'  orphaned {job["process"]}<{job["pk"]}> (left {job["state"]} under a process that has ended; '
            '`aiida-defectgenome orphans --mark` closes it)'
        )
    if status['gamma_max']:
        trend = ', '.join(f'{entry["run"]} {entry["gamma_max"]:.2f}' for entry in status['gamma_max'])
        click.echo(f'  gamma_max of the watched MD runs: {trend}')
    for failure in status['failures']:
        click.echo(f'  failed: {failure}')
