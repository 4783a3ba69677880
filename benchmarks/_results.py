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
