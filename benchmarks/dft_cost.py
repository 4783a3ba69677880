"""GPAW cost per configuration vs its size, on the `fast` labelling protocol, for planning campaigns.

bcc W supercells (8-128 atoms) with every atom displaced by up to 0.1 A (no symmetry, like genome cells),
one process. Writes benchmarks/results/dft_cost.json and .png with a power-law fit t = c N^p.
Run: python benchmarks/dft_cost.py [--max-atoms 130] [--min-atoms N]: with --min-atoms, the sizes below N
keep the rows already in the JSON (a long benchmark can be run in parts).
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase.build import bulk

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, write_results  # noqa: E402

from aiida_defectgenome.core.jobs.gpaw_single_point import single_point  # noqa: E402
from aiida_defectgenome.protocols import read_protocol  # noqa: E402

REPEATS = ((2, 2, 1), (2, 2, 2), (3, 3, 2), (3, 3, 3), (4, 4, 3), (4, 4, 4))


def main(max_atoms: int, min_atoms: int):
    _, protocol = read_protocol('dft_labeling', 'fast')
    parameters = {**protocol['gpaw'], 'kpoint_spacing': protocol['kpoint_spacing']}
    rows = []
    if min_atoms:
        earlier = json.loads((RESULTS / 'dft_cost.json').read_text())['rows']
        rows = [row for row in earlier if row['natoms'] < min_atoms]
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in REPEATS:
            atoms = bulk('W', 'bcc', a=3.18, cubic=True) * repeat
            if len(atoms) > max_atoms:
                break
            atoms.positions += rng.uniform(-0.1, 0.1, atoms.positions.shape)  # drawn for every size: same cells
            if len(atoms) < min_atoms:
                continue
            start = time.perf_counter()
            result = single_point(atoms, parameters, txt=str(Path(tmp) / 'gpaw.txt'))
            row = {
                'natoms': len(atoms),
                'wall_s': time.perf_counter() - start,
                'kpoint_mesh': result['kpoint_mesh'],
                'irreducible_kpoints': result['n_kpoints_irreducible'],
                'iterations': result['iterations'],
                'converged': result['converged'],
            }
            rows.append(row)
            print(row, flush=True)
            if len(rows) > 1:  # written after every size: a long run stopped early keeps what it measured
                write_results('dft_cost', _result(rows, parameters), draw)


def _result(rows: list[dict], parameters: dict) -> dict:
    n, t = np.array([r['natoms'] for r in rows]), np.array([r['wall_s'] for r in rows])
    power, log_c = np.polyfit(np.log(n), np.log(t), 1)
    fit = {'power': float(power), 'c': float(np.exp(log_c))}
    return {'protocol': 'fast', 'parameters': parameters, 'processes': 1, 'rows': rows, 'fit': fit}


def draw(plt, result):
    figure, ax = plt.subplots(figsize=(5, 4), layout='constrained')
    n = np.array([r['natoms'] for r in result['rows']])
    ax.loglog(n, [r['wall_s'] for r in result['rows']], 'o', label='GPAW, fast protocol, 1 process')
    grid = np.geomspace(n.min(), max(n.max(), 150), 50)
    fit = result['fit']
    ax.loglog(grid, fit['c'] * grid ** fit['power'], '--', label=f't = {fit["c"]:.3g} N^{fit["power"]:.2f}')
    ax.set_xlabel('atoms')
    ax.set_ylabel('wall time per configuration (s)')
    ax.legend(fontsize='small')
    return figure


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--max-atoms', type=int, default=130)
    parser.add_argument('--min-atoms', type=int, default=0, help='keep the JSON rows of smaller sizes')
    arguments = parser.parse_args()
    main(arguments.max_atoms, arguments.min_atoms)
