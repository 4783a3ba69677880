"""EIP sampling throughput and the AiiDA overhead, on the `fast` protocol (W, EAM-Zhou, four scenarios).

- LAMMPS: atom-steps per second of every run (LAMMPS' own "Loop time ... for N steps with M atoms").
- Selection: environments graded per second (reading, descriptors, gamma) in each SelectionCalculation.
- AiiDA overhead: the workchain's wall time against the same LAMMPS runs and selections done directly
  (core.lammps_local + core.dump_selection, two at a time like the workchain on 2 cores), as a
  percentage of the workchain's wall time. Goal (issue 4): <= 5 %.

Runs in a fresh SQLite profile (`aiida-defectgenome setup` under a temporary AIIDA_PATH).
Writes benchmarks/results/eip_sampling.json and .png.   Run: python benchmarks/eip_sampling.py (about 6 minutes)
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

SCENARIOS = ['polycrystal', 'tension', 'loop', 'indentation']
SELECTION = {'threshold': 2.0, 'limit': 3, 'radius': 5.0}
_LOOP = re.compile(r'Loop time of ([\d.eE+-]+) on \d+ procs for (\d+) steps with (\d+) atoms')


def with_aiida() -> dict:
    """Run the workchain in a fresh profile (this script again, in a child process with AIIDA_PATH set)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, 'AIIDA_PATH': tmp}
        subprocess.run([str(Path(sys.executable).parent / 'aiida-defectgenome'), 'setup'], env=env, check=True, capture_output=True)
        done = subprocess.run([sys.executable, __file__, '--aiida-child'], env=env, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def aiida_child() -> None:
    from aiida import load_profile, orm
    from aiida.engine import run_get_node

    load_profile()
    from aiida_defectgenome.core.datasets import read_configurations
    from aiida_defectgenome.core.descriptors import SnapDescriptor
    from aiida_defectgenome.core.screening import active_set_of
    from aiida_defectgenome.data.active_set import ActiveSetData
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET
    from aiida_defectgenome.tools.potentials import load_potential
    from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain

    active = ActiveSetData(active_set_of([a for a, _ in read_configurations(BASIC_W_DATASET)], SnapDescriptor(twojmax=6)))
    builder = EipSamplingWorkChain.get_builder_from_protocol(
        orm.load_code('lammps@localhost'), orm.load_code('python@localhost'), [load_potential('eam-zhou-W')], active,
        SCENARIOS, 'fast', 'benchmark-clusters', SELECTION,
    )  # fmt: skip
    start = time.perf_counter()
    _, node = run_get_node(builder)
    wall = time.perf_counter() - start
    loops, selections = [], []
    for calc in node.called_descendants:
        if calc.process_label == 'LammpsCalculation':
            loops += _loop_lines(calc.outputs.retrieved.base.repository.get_object_content('log.lammps'))
        elif calc.process_label == 'SelectionCalculation':
            selections.append(calc.outputs.summary.get_dict())
    print(
        json.dumps(
            {
                'wall_s': wall,
                'ok': node.is_finished_ok,
                'loops': loops,
                'selections': selections,
                'clusters': node.outputs.summary['clusters'],
            }
        )
    )


def _loop_lines(log: str) -> list:
    return [(float(t), int(steps), int(atoms)) for t, steps, atoms in _LOOP.findall(log)]


def directly() -> dict:
    """The same runs and selections without AiiDA, two at a time."""
    from aiida_defectgenome.core.datasets import read_configurations
    from aiida_defectgenome.core.descriptors import SnapDescriptor
    from aiida_defectgenome.core.dump_selection import select_from_dumps
    from aiida_defectgenome.core.lammps_input import TRAJECTORY_DUMP, type_elements
    from aiida_defectgenome.core.lammps_local import relaxed_lattice_constant, run_lammps
    from aiida_defectgenome.core.potentials import bundled_potential
    from aiida_defectgenome.core.sampling_plan import plan_runs
    from aiida_defectgenome.core.screening import active_set_of
    from aiida_defectgenome.protocols import read_protocol
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET

    active = active_set_of([a for a, _ in read_configurations(BASIC_W_DATASET)], SnapDescriptor(twojmax=6))
    potential = bundled_potential('eam-zhou-W')
    start = time.perf_counter()
    runs = plan_runs(SCENARIOS, 'W', relaxed_lattice_constant(potential, 'W'), read_protocol('eip_sampling', 'fast')[1])

    def one(run):
        with tempfile.TemporaryDirectory() as tmp:
            run_lammps(run.atoms, potential, run.parameters, keep=Path(tmp))
            species = type_elements(potential.species, run.parameters['frozen'])
            return select_from_dumps(active, [Path(tmp) / TRAJECTORY_DUMP], species, SELECTION)[1]

    with ThreadPoolExecutor(2) as pool:
        summaries = list(pool.map(one, runs))
    return {'wall_s': time.perf_counter() - start, 'clusters': sum(s['clusters'] for s in summaries)}


def main():
    aiida = with_aiida()
    plain = directly()
    atom_steps = sum(steps * atoms for _, steps, atoms in aiida['loops'])
    loop_s = sum(t for t, _, _ in aiida['loops'])
    environments = sum(s['atoms'] for s in aiida['selections'])
    selection_s = sum(s['atoms'] / s['environments_per_s'] for s in aiida['selections'] if s['environments_per_s'])
    result = {
        'scenarios': SCENARIOS,
        'protocol': 'fast',
        'lammps_atom_steps_per_s': atom_steps / loop_s,
        'selection_environments_per_s': environments / selection_s,
        'workchain_wall_s': aiida['wall_s'],
        'direct_wall_s': plain['wall_s'],
        'aiida_overhead_percent': 100 * (aiida['wall_s'] - plain['wall_s']) / aiida['wall_s'],
        'clusters': {'aiida': aiida['clusters'], 'direct': plain['clusters']},
        'runs': len(aiida['selections']),
    }
    write_results('eip_sampling', result, draw)
    print(json.dumps(result, indent=1))


def draw(plt, result):
    figure, ax = plt.subplots(figsize=(5, 4), layout='constrained')
    ax.bar(['through AiiDA', 'directly'], [result['workchain_wall_s'], result['direct_wall_s']], color=['C0', 'C1'])
    ax.set_ylabel('wall time (s)')
    ax.set_title(
        f'AiiDA overhead {result["aiida_overhead_percent"]:.1f} % ({result["runs"]} runs, fast protocol)', fontsize='small'
    )
    return figure


if __name__ == '__main__':
    aiida_child() if sys.argv[1:] == ['--aiida-child'] else main()
