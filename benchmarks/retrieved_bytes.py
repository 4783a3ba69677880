"""What comes back from the computer: bytes retrieved against bytes the jobs wrote there (issue 21, part 3).

Runs ``aiida-defectgenome sample --potential eam-zhou-W --scenarios all --protocol fast`` in a fresh SQLite
profile (``setup`` under a temporary AIIDA_PATH; the basic W set imported as the reference), then, for every
CalcJob, sums the files left in its remote working folder (the ``localhost`` computer: a local path) and
the files AiiDA retrieved into the repository. Goal (issue 21): retrieved <= 5 % of written, so that the
dumps stay on the cluster and only selected clusters and summaries travel.
Writes benchmarks/results/retrieved_bytes.json and .png.
Run: python benchmarks/retrieved_bytes.py (about 12 minutes on 2 cores)
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

COMMAND = ['sample', '--potential', 'eam-zhou-W', '--scenarios', 'all', '--protocol', 'fast']


def folder_bytes(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob('*') if entry.is_file() and not entry.is_symlink())


def measure() -> dict:
    """In the profile of AIIDA_PATH: bytes written and retrieved per calculation plugin."""
    from aiida import load_profile, orm

    load_profile()
    rows = defaultdict(lambda: {'jobs': 0, 'written': 0, 'retrieved': 0})
    for node in orm.QueryBuilder().append(orm.CalcJobNode).all(flat=True):
        row = rows[node.process_type.split(':')[-1]]
        row['jobs'] += 1
        if 'remote_folder' in node.outputs:
            row['written'] += folder_bytes(Path(node.outputs.remote_folder.get_remote_path()))
        if 'retrieved' in node.outputs:
            repository = node.outputs.retrieved.base.repository
            row['retrieved'] += sum(len(repository.get_object_content(name, mode='rb')) for name in repository.list_object_names())
    written = sum(r['written'] for r in rows.values())
    retrieved = sum(r['retrieved'] for r in rows.values())
    return {'by_plugin': dict(rows), 'written': written, 'retrieved': retrieved, 'retrieved_percent': 100 * retrieved / written}


def main() -> dict:
    cli = str(Path(sys.executable).parent / 'aiida-defectgenome')
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, 'AIIDA_PATH': tmp}
        from aiida_defectgenome.tools.demo import BASIC_W_DATASET

        for command in (['setup'], ['genome', 'import', str(BASIC_W_DATASET), '--group', 'w-basic']):
            subprocess.run([cli, *command], env=env, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run([cli, *COMMAND, '--reference', 'w-basic', '--group', 'sampled'], env=env, check=True, capture_output=True)
        wall = time.perf_counter() - start
        done = subprocess.run([sys.executable, __file__, '--measure'], env=env, check=True, capture_output=True, text=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(command=' '.join(['aiida-defectgenome', *COMMAND]), wall_s=wall, goal_percent=5.0)
    return result


def draw(plt, result):
    rows = result['by_plugin']
    names = sorted(rows, key=lambda name: -rows[name]['written'])
    figure, axis = plt.subplots(figsize=(7, 3.5))
    positions = range(len(names))
    axis.barh([p + 0.2 for p in positions], [rows[n]['written'] / 1e6 for n in names], height=0.4, label='written on the computer')
    axis.barh([p - 0.2 for p in positions], [rows[n]['retrieved'] / 1e6 for n in names], height=0.4, label='retrieved')
    axis.set_yticks(list(positions), [f'{n} ({rows[n]["jobs"]} jobs)' for n in names])
    axis.set_xscale('log')
    axis.set_xlabel('MB')
    axis.set_title(f'{result["command"]}: retrieved {result["retrieved_percent"]:.2f} % of written', fontsize=8)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


if __name__ == '__main__':
    if sys.argv[1:] == ['--measure']:
        print(json.dumps(measure()))
    else:
        print(json.dumps(write_results('retrieved_bytes', main(), draw), indent=2))
