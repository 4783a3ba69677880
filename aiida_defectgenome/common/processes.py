"""Processes that can never finish: the children of a run stopped by a signal, and the orphans of a daemon
worker that died (a process still "running" although a process above it has terminated)."""

from __future__ import annotations

from aiida import orm
from plumpy.process_states import ProcessState

__all__ = ('ACTIVE_STATES', 'ended_ancestor', 'is_orphan', 'orphaned_processes', 'stop_processes')

#: Process states of a process that has not terminated.
ACTIVE_STATES = ('created', 'waiting', 'running')


def stop_processes(node: orm.ProcessNode, reason: str, state: ProcessState = ProcessState.KILLED) -> list[orm.ProcessNode]:
    """Mark ``node`` and every process it started that has not terminated as ``state`` (killed, or excepted
    with ``reason`` as the exception), cancelling their scheduler jobs first; return the descendants marked.

    For processes no runner will ever step again: their runner has stopped or died. A live process is
    stopped with ``verdi process kill`` instead.
    """
    stopped = [child for child in node.called_descendants if not child.is_terminated]
    for process in [*stopped, node] if not node.is_terminated else stopped:
        _cancel_job(process)
        process.set_process_state(state)
        if state == ProcessState.EXCEPTED:
            process.set_exception(reason)
        process.set_process_status(reason)
        process.seal()
    return stopped


def _cancel_job(process: orm.ProcessNode) -> None:
    """Cancel the scheduler job of a CalcJob that submitted one (a job that already ended is not an error)."""
    if not isinstance(process, orm.CalcJobNode) or process.get_job_id() is None:
        return
    computer = process.computer
    with computer.get_authinfo(orm.User.collection.get_default()).get_transport() as transport:
        scheduler = computer.get_scheduler()
        scheduler.set_transport(transport)
        try:
            scheduler.kill_job(process.get_job_id())
        except Exception:  # noqa: BLE001 - the job may have ended; the node is marked all the same
            pass


def ended_ancestor(node: orm.ProcessNode) -> orm.ProcessNode | None:
    """Return the nearest process above an active ``node`` that has terminated, else ``None``."""
    if node.is_terminated:
        return None
    caller = node.caller
    while caller is not None and not caller.is_terminated:
        caller = caller.caller
    return caller


def is_orphan(node: orm.ProcessNode) -> bool:
    """Whether ``node`` has not terminated but a process above it has: nothing will ever step it again."""
    return ended_ancestor(node) is not None


def orphaned_processes(root: orm.ProcessNode | None = None) -> list[orm.ProcessNode]:
    """Return the orphans (:func:`is_orphan`) among the descendants of ``root``, or in the whole profile."""
    if root is not None:
        return [node for node in root.called_descendants if is_orphan(node)]
    query = orm.QueryBuilder().append(orm.ProcessNode, filters={'attributes.process_state': {'in': list(ACTIVE_STATES)}})
    return [node for (node,) in query.iterall() if is_orphan(node)]
