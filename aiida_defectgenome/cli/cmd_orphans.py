"""``aiida-defectgenome orphans``: processes left unfinished under a process that has ended."""

import click

from . import cmd_root
from .utils import load_node_or_fail, load_profile_or_fail, user_errors


@cmd_root.command('orphans')
@click.argument('pk', type=int, required=False)
@click.option('--mark', is_flag=True, help='Mark them excepted, with the reason, so that queries and archives are clean.')
@click.pass_context
@user_errors
def cmd_orphans(ctx, pk, mark):
    """List the orphaned processes under PK (a campaign or any process; default: the whole profile).

    An orphan has not terminated although a process above it has: a daemon worker that died mid-step
    leaves one (the parent went on with a fresh copy of the step and finished). No runner will ever step
    it again; `verdi process kill` cannot reach it. --mark sets it excepted with the reason and cancels its
    scheduler job, if any.
    """
    load_profile_or_fail(ctx)
    from aiida import orm
    from plumpy.process_states import ProcessState

    from ..common.processes import ended_ancestor, orphaned_processes, stop_processes

    root = load_node_or_fail(pk, orm.ProcessNode, 'a process') if pk is not None else None
    orphans = orphaned_processes(root)
    for node in orphans:
        ended = ended_ancestor(node)
        state = node.process_state.value
        click.echo(f'{node.process_label}<{node.pk}> {state}, under {ended.process_label}<{ended.pk}> {ended.process_state.value}')
        if mark:
            reason = f'Orphaned: {ended.process_label}<{ended.pk}> ended while this process was {state}'
            stop_processes(node, reason, ProcessState.EXCEPTED)
    click.echo(f'{len(orphans)} orphaned processes' + (', marked excepted.' if mark and orphans else '.'))
