"""Time the import of the W basic DFT set (678 configurations) into a fresh SQLite profile, and a repeat.

Writes benchmarks/results/genome_import.json and genome_import.png. Run: python benchmarks/genome_import.py
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_results

HERE = Path(__file__).parent
DATASET = HERE.parent / 'aiida_defectgenome' / 'resources' / 'W-basic-dft.extxyz.gz'


def main(repeats: int = 3) -> dict:
    import ase.io

    from aiida_defectgenome.core.structures.datasets import read_configurations

    start = time.perf_counter()
    ase.io.read(DATASET, index=':')
    ase_gzip = time.perf_counter() - start
    start = time.perf_counter()
    read_configurations(DATASET)
    ours = time.perf_counter() - start

    first, again = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, 'AIIDA_PATH': tmp}
            cli = str(Path(sys.executable).parent / 'aiida-defectgenome')
            subprocess.run([cli, 'setup'], env=env, check=True, capture_output=True)
            code = (
                'import time, sys; from aiida import load_profile; load_profile();'
                'from aiida_defectgenome.services.genome import import_genome;'
                't = time.perf_counter(); r = import_genome(sys.argv[1], "B"); a = time.perf_counter() - t;'
                't = time.perf_counter(); import_genome(sys.argv[1], "B"); b = time.perf_counter() - t;'
                'print(a, b, r.created)'
            )
            out = subprocess.run(
                [sys.executable, '-c', code, str(DATASET)], env=env, check=True, capture_output=True, text=True
            ).stdout.split()
            assert int(out[2]) == 678
            first.append(float(out[0]))
            again.append(float(out[1]))
    result = {
        'configurations': 678,
        'atoms': 48761,
        'read_gzip_with_ase_read_s': round(ase_gzip, 3),
        'read_with_read_configurations_s': round(ours, 3),
        'import_s': [round(t, 2) for t in first],
        'reimport_s': [round(t, 2) for t in again],
        'import_ms_per_configuration': round(1000 * min(first) / 678, 1),
        'machine': f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}',
        'storage': 'core.sqlite_dos',
    }
    return write_results('genome_import', result, _plot)


def _plot(plt, result):
    labels = ['read (ase, gzip)', 'read (ours)', 'import', 're-import']
    values = [
        result['read_gzip_with_ase_read_s'],
        result['read_with_read_configurations_s'],
        min(result['import_s']),
        min(result['reimport_s']),
    ]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(labels, values, color=['grey', 'tab:blue', 'tab:orange', 'tab:green'])
    ax.set_xlabel('seconds (678 configurations, 48,761 atoms)')
    for y, v in enumerate(values):
        ax.text(v, y, f' {v:.2f} s', va='center')
    fig.tight_layout()
    return fig


if __name__ == '__main__':
    print(json.dumps(main(), indent=2))
