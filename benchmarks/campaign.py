"""Wall time of the `demo` campaign per stage, and the AiiDA overhead as a share of the total.

- Stages: each child of the DefectGenomeWorkChain and each step of its active learning, creation to
  last change (tools.campaign.stage_times).
- Busy time: the union of the intervals in which at least one calculation (CalcJob, from creation to
  its end, upload and parsing included, or calcfunction) was in progress.
- AiiDA overhead: total wall time minus busy time, in percent of the total: the time in which only the
  engine worked (workchain steps, launching, waiting for the next step). Goal (issue 8): <= 5 %.
  The upload, polling and parsing inside each CalcJob are in the busy time, so this is a lower bound.

Runs the `demo` campaign in a fresh SQLite profile (temporary AIIDA_PATH), or reads a finished campaign
of the current profile with --pk (e.g. the one `aiida-defectgenome demo` ran). Writes benchmarks/results/campaign.json and .png.
With --slurm the fresh profile's campaign goes through the daemon to the one-node SLURM cluster of
`.ci/slurm-cluster` (started if needed; root), over SSH to localhost (`core.ssh_async`, `core.slurm`): every
job (LAMMPS, selection, GPAW, training, watched MD) is a SLURM job; written to campaign_slurm.json and .png.
Run: python benchmarks/campaign.py [--pk PK] [--slurm] (about 10 minutes on 2 cores)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.slurm_cluster
from _results import engine_overhead, write_results  # noqa: E402


def measure(pk: int) -> dict:
    from aiida import orm

    from aiida_defectgenome.tools.campaign import campaign_groups, stage_times

    node = orm.load_node(pk)
    overhead = engine_overhead(node)
    calculations = [n for n in node.called_descendants if isinstance(n, orm.CalculationNode)]
    jobs = [n for n in calculations if isinstance(n, orm.CalcJobNode)]
    return {
        'campaign': pk,
        'exit_status': node.exit_status,
        'total_s': round(overhead['wall_s'], 1),
        'busy_s': round(overhead['busy_s'], 1),
        'overhead_percent': round(overhead['overhead_percent'], 2),
        'largest_gaps': overhead['largest_gaps'],
        'calcjobs': len(jobs),
        'calcfunctions': len(calculations) - len(jobs),
        'processes': len(node.called_descendants) + 1,
        'stages': [{**row, 'seconds': round(row['seconds'], 1)} for row in stage_times(node)],
        'groups': campaign_groups(node.inputs.group_prefix.value),
    }


def fresh_demo() -> None:
    """Set up a fresh profile, run the demo campaign, and measure it (this script with --pk, in that profile)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, 'AIIDA_PATH': tmp, 'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'}
        command = str(Path(sys.executable).parent / 'aiida-defectgenome')
        subprocess.run([command, 'setup'], env=env, check=True, capture_output=True)
        run = subprocess.run([command, 'campaign', 'run', '--protocol', 'demo'], env=env, capture_output=True, text=True)
        if run.returncode:
            raise SystemExit(run.stdout + run.stderr)
        pk = run.stdout.split('<')[1].split('>')[0]
        subprocess.run([sys.executable, __file__, '--pk', pk], env=env, check=True)


SLURM_LABEL = 'slurm-bench'


def _slurm_codes(command: str, env: dict, folder: Path) -> list[str]:
    """Start the SLURM cluster, register it with its codes (``setup --computer``) and return the campaign's
    code options."""
    import yaml

    from tests.slurm_cluster import CLUSTER, computer_file

    subprocess.run([str(CLUSTER), 'start'], check=True, capture_output=True, timeout=600)
    (folder / 'slurm-work').mkdir()
    spec = computer_file(SLURM_LABEL, folder / 'slurm-work')
    (folder / 'cluster.yaml').write_text(yaml.safe_dump(spec))
    subprocess.run([command, 'setup', '--computer', str(folder / 'cluster.yaml')], env=env, check=True, capture_output=True)
    return ['--lammps-code', f'lammps@{SLURM_LABEL}', '--python-code', f'python@{SLURM_LABEL}', '--dft-code', f'gpaw@{SLURM_LABEL}']


def slurm_demo() -> None:
    """The demo campaign through the daemon and SLURM in a fresh profile, then measured (``--pk``)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, 'AIIDA_PATH': tmp, 'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'}
        env['PATH'] = f'{Path(sys.executable).parent}:{env["PATH"]}'  # the daemon needs verdi
        command = str(Path(sys.executable).parent / 'aiida-defectgenome')
        subprocess.run([command, 'setup'], env=env, check=True, capture_output=True)
        code_args = _slurm_codes(command, env, Path(tmp))
        subprocess.run(['verdi', 'daemon', 'start', '2'], env=env, check=True, capture_output=True)
        try:
            run = subprocess.run(
                [command, 'campaign', 'run', '--protocol', 'demo', *code_args, '--submit'], env=env, capture_output=True, text=True
            )
            if run.returncode:
                raise SystemExit(run.stdout + run.stderr)
            pk = run.stdout.split('<')[1].split('>')[0]
            wait = f'from aiida import load_profile, orm; load_profile(); print(orm.load_node({pk}).is_terminated)'
            while subprocess.run([sys.executable, '-c', wait], env=env, capture_output=True, text=True).stdout.strip() != 'True':
                time.sleep(10)
            subprocess.run([sys.executable, __file__, '--pk', pk, '--name', 'campaign_slurm'], env=env, check=True)
        finally:
            subprocess.run(['verdi', 'daemon', 'stop'], env=env, capture_output=True)


def draw(plt, result):
    stages = [row for row in result['stages'] if not row['stage'].startswith(' ') and row['process'] != 'calcfunction']
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh([row['stage'] for row in stages][::-1], [row['seconds'] for row in stages][::-1], color='tab:blue')
    ax.set_xlabel('wall time (s)')
    ax.set_title(f'demo campaign: {result["total_s"]:.0f} s, AiiDA overhead {result["overhead_percent"]:.1f} %')
    fig.tight_layout()
    return fig


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pk', type=int, help='Measure this finished campaign of the current profile.')
    parser.add_argument('--slurm', action='store_true', help='Through the daemon and the SLURM cluster of .ci/slurm-cluster.')
    parser.add_argument('--name', default='campaign', help=argparse.SUPPRESS)  # results file, set by --slurm
    args = parser.parse_args()
    if not args.pk:
        slurm_demo() if args.slurm else fresh_demo()
        return
    from aiida import load_profile

    load_profile()
    result = write_results(args.name, measure(args.pk), draw)
    print(json.dumps({key: value for key, value in result.items() if key != 'stages'}, indent=1))


if __name__ == '__main__':
    main()
