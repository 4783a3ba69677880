"""The project's own defect genome for the training benchmark: PCC-GCMC cells of the benchmark's clusters.

Every named realistic cluster (``tests/realistic_clusters.py``: cut from relaxed EAM-Zhou W simulations of
>= 2,000 atoms) and every ``--every``-th cluster that ``sample --scenarios all --protocol fast`` gave with
``eam-zhou-W`` and ``meam-W`` (``results/pcc_gcmc_sampled.extxyz.gz``, see ``pcc_gcmc.py``) goes through
``core.pcc_gcmc.gcmc.run_pcc_gcmc`` with the ``fast`` protocol (a second round where the first gives no valid cell,
as the work chain does). Each valid cell is appended to ``results/genome_cells.extxyz.gz`` as it ends, with
``arrays['core']`` (the frozen atoms, the first ``n_core``) and ``info`` ``key``, ``name``, ``potential``,
``round``, ``ideal_gap``; a second call runs only the clusters not yet there. No labels: the training
benchmark labels the cells with its reference potential.

Run: python benchmarks/genome_cells.py [--jobs 2] [--every 2 | --sampled I ...]   (40 s per cell on 2 cores)
"""

import argparse
import gzip
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS  # noqa: E402
from pcc_gcmc import BUILDERS, cluster_case, sampled_clusters  # noqa: E402

from aiida_defectgenome.core.lammps.potentials import bundled_potential  # noqa: E402
from aiida_defectgenome.core.pcc_gcmc import gcmc  # noqa: E402
from aiida_defectgenome.core.pcc_gcmc.box_search import ImpossibleBox  # noqa: E402
from aiida_defectgenome.workflows.pcc_gcmc import load_protocol  # noqa: E402

CELLS = RESULTS / 'genome_cells.extxyz.gz'


def read_cells() -> list:
    """The cells made so far (``[]`` if none)."""
    import ase.io

    if not CELLS.exists():
        return []
    with gzip.open(CELLS, 'rt') as handle:
        return ase.io.read(handle, index=':', format='extxyz')


def make_cell(key: str):
    """Return ``(key, cell or None, CPU s)`` for the cluster ``key`` (``fast`` protocol)."""
    name, cluster, energies, potential_name, _ = cluster_case(key)
    start = time.process_time()
    potential = bundled_potential(potential_name)
    try:
        result = gcmc.run_pcc_gcmc(cluster, potential, load_protocol('fast')[1], source_energies=energies)
    except (ImpossibleBox, ValueError) as exc:
        print(f'{key}: no cell ({exc})', flush=True)
        return key, None, time.process_time() - start
    if result.cell is None:
        return key, None, result.cpu_s
    best = result.candidates[result.chosen]
    cell = result.cell.copy()
    cell.calc = None
    core = np.zeros(len(cell), dtype=bool)
    core[: result.source['n_core']] = True
    cell.arrays['core'] = core
    cell.info.update(key=key, name=name, potential=potential_name, round=best['round'], ideal_gap=best['ideal_gap'])
    return key, cell, result.cpu_s


def main(jobs: int, every: int, sampled=None):
    import ase.io

    done = {atoms.info['key'] for atoms in read_cells()}
    chosen = range(0, len(sampled_clusters()), every) if sampled is None else sampled
    keys = list(BUILDERS) + [f'sampled {i}' for i in chosen]
    todo = [key for key in keys if key not in done]
    print(f'{len(done)} cells already made, {len(todo)} clusters to go', flush=True)
    with Pool(jobs) as pool:
        for key, cell, cpu in pool.imap_unordered(make_cell, todo):
            if cell is not None:
                with gzip.open(CELLS, 'at') as handle:
                    ase.io.write(handle, cell, format='extxyz')
            print(f'{key}: {len(cell) if cell is not None else "no"} atoms, {cpu:.0f} s CPU', flush=True)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--every', type=int, default=2, help='take every N-th sampled cluster (1: all 89)')
    parser.add_argument('--sampled', type=int, nargs='+', help='these sampled clusters (indices) instead')
    args = parser.parse_args()
    main(args.jobs, args.every, args.sampled)
