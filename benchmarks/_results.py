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


def engine_overhead(node) -> dict:
    """Wall time of a finished workflow ``node`` (s), the time in which at least one of its calculations
    (CalcJob from creation to end, upload and parsing included, or calcfunction) was in progress, and the
    rest, the AiiDA overhead, in s and in percent of the wall time: a lower bound of the engine's cost."""
    from aiida import orm

    origin = node.ctime
    calculations = [n for n in node.called_descendants if isinstance(n, orm.CalculationNode)]
    intervals = sorted(((n.ctime - origin).total_seconds(), (n.mtime - origin).total_seconds()) for n in calculations)
    busy, end = 0.0, float('-inf')
    for start, stop in intervals:
        if stop > end:
            busy += stop - max(start, end)
            end = stop
    total = (node.mtime - origin).total_seconds()
    return {'wall_s': total, 'busy_s': busy, 'overhead_s': total - busy, 'overhead_percent': 100 * (total - busy) / total}
