"""Where benchmarks put their numbers: ``benchmarks/results/<name>.json`` and ``<name>.png``."""

import json
from pathlib import Path

RESULTS = Path(__file__).parent / 'results'


def write_results(name: str, result: dict, draw) -> dict:
    """Write ``result`` as JSON and the figure ``draw(plt, result)`` returns as PNG; return ``result``."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f'{name}.json').write_text(json.dumps(result, indent=2) + '\n')
    draw(plt, result).savefig(RESULTS / f'{name}.png', dpi=120)
    return result


def _label(node) -> str:
    """A calculation's name in a gap report: its call link label and process label."""
    from aiida.common.links import LinkType

    calls = node.base.links.get_incoming(link_type=LinkType.CALL_CALC).all()
    label = calls[0].link_label if calls else 'CALL'
    return node.process_label if label == 'CALL' else f'{label} ({node.process_label})'


def engine_overhead(node, gaps: int = 10) -> dict:
    """Wall time of a finished workflow ``node`` (s), the time in which at least one of its calculations
    (CalcJob from creation to end, upload and parsing included, or calcfunction) was in progress, and the
    rest, the AiiDA overhead, in s and in percent of the wall time: a lower bound of the engine's cost.
    ``largest_gaps``: the ``gaps`` longest stretches with no calculation in progress (s from the start,
    length in s, the calculation that ended before and the one that started after)."""
    from aiida import orm

    origin = node.ctime
    calculations = [n for n in node.called_descendants if isinstance(n, orm.CalculationNode)]
    intervals = sorted(((n.ctime - origin).total_seconds(), (n.mtime - origin).total_seconds(), n) for n in calculations)
    busy, end, last, idle = 0.0, 0.0, None, []
    for start, stop, calculation in intervals:
        if start > end:
            idle.append((start - end, end, last, calculation))
        if stop > end:
            busy += stop - max(start, end)
            end, last = stop, calculation
    total = (node.mtime - origin).total_seconds()
    idle.append((total - end, end, last, None))
    largest = [
        {
            'at_s': round(at, 1),
            'seconds': round(length, 2),
            'after': _label(before) if before else 'start',
            'before': _label(after) if after else 'end',
        }
        for length, at, before, after in sorted(idle, key=lambda row: row[0], reverse=True)[:gaps]
    ]
    return {
        'wall_s': total,
        'busy_s': busy,
        'overhead_s': total - busy,
        'overhead_percent': 100 * (total - busy) / total,
        'largest_gaps': largest,
    }
