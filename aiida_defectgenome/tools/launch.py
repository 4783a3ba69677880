"""Run a process in this interpreter, as ``aiida.engine.run_get_node`` does, with shorter waits between steps
and a clean stop on Ctrl-C.

Without a broker in the loop (``run``, ``verdi run``), a workchain learns that a child process ended only by
checking its node every ``runner.poll.interval`` seconds: a profile option that takes whole seconds (at least
1 s; AiiDA's default is 60 s). Every level of nesting then waits half that on average before its next step;
in a sampling run, a LAMMPS job, its selection and the sampling workchain wait in a row. The commands of
this package check every 0.2 s instead, which costs about 0.4 ms per waiting workchain and check.

On SIGINT or SIGTERM AiiDA's own runner kills the top process only: with no broker it cannot reach the
children, which stay "Waiting" for ever. Here the children are stopped too (:func:`.processes.stop_processes`).
"""

from __future__ import annotations

import signal

from aiida.engine import utils
from aiida.manage import get_manager

from ..common.processes import stop_processes

__all__ = ('Interrupted', 'run_get_node')

#: Seconds between two checks whether a child process has ended.
POLL_INTERVAL = 0.2


class Interrupted(Exception):
    """A run stopped by a signal; the message says what was stopped."""


def run_get_node(process, **inputs):
    """Run ``process`` (a builder or a process class with ``inputs``) here; return ``(outputs, node)``.

    :raises Interrupted: after SIGINT/SIGTERM, once the process and every process it started are killed.
    """
    runner = get_manager().create_runner(communicator=None, poll_interval=POLL_INTERVAL)
    received = []
    with utils.loop_scope(runner.loop):
        instance = runner.instantiate_process(process, **inputs)

        def kill():
            if not instance.has_terminated() and not instance.is_killing:
                instance.kill(msg_text=f'Killed on {received[0]}')

        def stop(signum, _frame):  # the kill waits for the loop: a signal may land inside a database transaction
            received.append(signal.Signals(signum).name)
            for number in previous:  # one stop is enough; a second Ctrl-C must not cut it short
                signal.signal(number, signal.SIG_IGN)
            runner.loop.call_soon_threadsafe(kill)

        previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            for number in previous:
                signal.signal(number, stop)
            try:
                instance.execute()
            except Exception:
                if not received:
                    raise
        finally:
            stopped = stop_processes(instance.node, f'Killed on {received[0]}') if received else []
            for number, handler in previous.items():
                signal.signal(number, handler)
    if received:
        raise Interrupted(
            f'stopped by {received[0]}: {instance.node.process_label}<{instance.node.pk}> and the {len(stopped)} unfinished '
            'processes it started are killed (`verdi process list -a -p 1` lists them); what had finished stays stored; '
            'run the command again to start over'
        )
    return instance.outputs, instance.node
