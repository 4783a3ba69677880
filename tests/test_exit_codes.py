"""Exit codes lie in AiiDA's bands (docs/source/reference/processes.md): a process's own codes (those its base
classes do not define) are input errors (200-299, work chains only), unrecoverable (300-399) or recoverable /
sub-process failures (400-499), each status used once."""

import inspect
from importlib.metadata import entry_points

import pytest
from aiida.engine import BaseRestartWorkChain, CalcJob, Process, WorkChain

PROCESSES = [
    point.load()
    for group in ('aiida.calculations', 'aiida.workflows')
    for point in entry_points(group=group)
    if point.value.startswith('aiida_defectgenome.') and point.name != 'defectgenome.import_configurations'
]


def _own_exit_codes(process) -> dict:
    inherited = set().union(*(base.spec().exit_codes for base in process.__mro__[1:] if issubclass(base, Process)))
    return {label: code.status for label, code in process.spec().exit_codes.items() if label not in inherited}


@pytest.mark.parametrize('process', PROCESSES, ids=lambda process: process.__name__)
def test_own_exit_codes_are_in_aiidas_bands(process):
    assert issubclass(process, (CalcJob, WorkChain))
    lowest = 300 if issubclass(process, CalcJob) else 200
    codes = _own_exit_codes(process)
    assert all(lowest <= status < 500 for status in codes.values()), codes
    assert len(set(codes.values())) == len(codes), codes


@pytest.mark.parametrize('process', [p for p in PROCESSES if issubclass(p, WorkChain)], ids=lambda process: process.__name__)
def test_a_work_chains_sub_process_failures_are_4xx(process):
    failed = {label: status for label, status in _own_exit_codes(process).items() if label.endswith('_FAILED')}
    assert all(400 <= status < 500 for status in failed.values()), failed


@pytest.mark.parametrize('process', [p for p in PROCESSES if issubclass(p, BaseRestartWorkChain)], ids=lambda p: p.__name__)
def test_what_a_restart_handler_recovers_from_is_4xx_or_the_schedulers(process):
    handled = [
        code.status
        for handler in process.get_process_handlers()
        for code in inspect.getclosurevars(handler._self_wrapper).nonlocals['exit_codes'] or ()
    ]
    assert handled and all(status // 100 in (1, 4) for status in handled), handled
