"""WorkChains of aiida-defectgenome (see ``docs/source/reference``)."""

import os

#: Jobs at once on a computer with a queue (the queue spreads them), unless a workflow is told otherwise.
QUEUED_JOBS_AT_ONCE = 50


def jobs_at_once(code, requested=None, per_item: int = 1) -> int:
    """How many items (each ``per_item`` jobs) a workflow runs at once on ``code``'s computer: ``requested``
    (an ``Int``) if given; on a computer without a queue (``core.direct``) as many jobs as it has cores (this
    machine's for ``core.local``, else the computer's default MPI processes per machine), so that a
    workstation is not oversubscribed; else :data:`QUEUED_JOBS_AT_ONCE` jobs."""
    if requested is not None:
        return int(requested.value)
    computer = code.computer
    if computer.scheduler_type != 'core.direct':
        jobs = QUEUED_JOBS_AT_ONCE
    elif computer.transport_type == 'core.local':
        jobs = os.cpu_count() or 1
    else:
        jobs = computer.get_default_mpiprocs_per_machine() or 1
    return max(1, jobs // per_item)


def process_failure(node) -> str:
    """One line telling which process ended badly and why: ``Label<pk> exit N: message``."""
    return f'{node.process_label}<{node.pk}> exit {node.exit_status}: {node.exit_message or node.process_state.value}'


def set_options(namespace, options: dict | None) -> None:
    """Set each of ``options`` on a builder's ``metadata.options`` ``namespace`` (the others keep their defaults:
    a whole dict assigned at once would have to repeat ``resources``)."""
    for key, value in (options or {}).items():
        namespace[key] = value


def port_name(name: str) -> str:
    """``name`` as a port or link label: every character but letters and digits becomes ``_``."""
    return ''.join(c if c.isalnum() else '_' for c in name)
