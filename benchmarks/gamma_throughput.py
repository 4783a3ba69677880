"""Throughput of the D-optimality engine: gamma per environment, MaxVol, and the SNAP descriptor.

- gamma: 10^6 environments at m = 30 (twojmax 6) and m = 55 (twojmax 8) against the active set of the
  W basic set, on one BLAS thread (environments per second per core) and on all cores;
- MaxVol: the active set of N = 10^5 rows (the basic set's descriptors, repeated with small noise);
- descriptor: LAMMPS ``compute sna/atom`` atoms per second on a 16,000-atom bcc W cell, one process.

Writes benchmarks/results/gamma_throughput.json and gamma_throughput.png.
Run: python benchmarks/gamma_throughput.py   (the BLAS thread count is set per measurement)
"""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from _results import write_results

HERE = Path(__file__).parent
ENVIRONMENTS = 1_000_000
POOL = 100_000


def _measure(twojmax: int) -> dict:
    """Run inside a fresh interpreter whose BLAS thread count was fixed before numpy loaded."""
    import numpy as np
    from ase.build import bulk

    from aiida_defectgenome.core.doptimality.active_set import build_active_set
    from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor
    from aiida_defectgenome.core.structures.datasets import read_structures
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET

    descriptor = SnapDescriptor(twojmax=twojmax)
    frames = read_structures(BASIC_W_DATASET)
    start = time.perf_counter()
    rows, _ = descriptor.compute_many(frames)
    basic_seconds = time.perf_counter() - start
    large = bulk('W', 'bcc', a=3.16485, cubic=True) * 20
    large.rattle(0.05, seed=0)
    start = time.perf_counter()
    descriptor.compute(large)
    large_seconds = time.perf_counter() - start

    rng = np.random.default_rng(0)
    spread = rows.std(axis=0)
    pool = np.resize(rows, (POOL, rows.shape[1])) + 1e-3 * spread * rng.standard_normal((POOL, rows.shape[1]))
    start = time.perf_counter()
    pool_set = build_active_set(pool, descriptor.parameters)
    maxvol_seconds = time.perf_counter() - start

    active = build_active_set(rows, descriptor.parameters)
    candidates = np.resize(rows, (ENVIRONMENTS, rows.shape[1])) * (1 + 0.01 * rng.standard_normal((ENVIRONMENTS, 1)))
    active.grade(candidates[:10000])  # warm up
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        gamma = active.grade(candidates)
        timings.append(time.perf_counter() - start)
    return {
        'm': descriptor.size,
        'gamma_environments': ENVIRONMENTS,
        'gamma_s': round(min(timings), 4),
        'gamma_environments_per_s': round(ENVIRONMENTS / min(timings)),
        'gamma_max_seen': round(float(gamma.max()), 3),
        'maxvol_pool_rows': POOL,
        'maxvol_s': round(maxvol_seconds, 3),
        'maxvol_swaps': pool_set.iterations,
        'descriptor_basic_set_atoms': len(rows),
        'descriptor_basic_set_s': round(basic_seconds, 2),
        'descriptor_basic_set_atoms_per_s': round(len(rows) / basic_seconds),
        'descriptor_bulk_atoms': len(large),
        'descriptor_bulk_atoms_per_s': round(len(large) / large_seconds),
    }


def _run(twojmax: int, threads: int) -> dict:
    env = {**os.environ, 'OPENBLAS_NUM_THREADS': str(threads), 'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads)}
    code = (
        f'import json, sys; sys.path.insert(0, {str(HERE)!r}); import gamma_throughput as g; '
        f'print(json.dumps(g._measure({twojmax})))'
    )
    out = subprocess.run([sys.executable, '-c', code], env=env, check=True, capture_output=True, text=True).stdout
    return {'threads': threads, 'twojmax': twojmax, **json.loads(out.strip().splitlines()[-1])}


def main() -> dict:
    cores = os.cpu_count() or 1
    runs = [_run(twojmax, threads) for twojmax in (6, 8) for threads in sorted({1, cores})]
    result = {
        'runs': runs,
        'goal_gamma_environments_per_s_per_core_at_m55': 2_000_000,
        'machine': f'{platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}',
    }
    return write_results('gamma_throughput', result, _plot)


def _plot(plt, result):
    single = [r for r in result['runs'] if r['threads'] == 1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), layout='constrained')
    labels = [f'm = {r["m"]}' for r in single]
    left.bar(labels, [r['gamma_environments_per_s'] / 1e6 for r in single], color='tab:blue')
    left.axhline(
        result['goal_gamma_environments_per_s_per_core_at_m55'] / 1e6, color='grey', linestyle='--', label='goal at m = 55'
    )
    left.set_ylabel('gamma: million environments / s / core')
    left.legend(fontsize='small')
    right.bar(labels, [r['descriptor_bulk_atoms_per_s'] / 1e3 for r in single], color='tab:orange')
    right.set_ylabel('sna/atom: thousand atoms / s (1 process)')
    for axes, key, scale in ((left, 'gamma_environments_per_s', 1e6), (right, 'descriptor_bulk_atoms_per_s', 1e3)):
        for x, r in enumerate(single):
            axes.text(x, r[key] / scale, f'{r[key] / scale:.2f}', ha='center', va='bottom')
    return fig


if __name__ == '__main__':
    print(json.dumps(main(), indent=2))
