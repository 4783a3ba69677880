"""EIP sampling throughput and the AiiDA overhead, on the `fast` protocol (W, EAM-Zhou, four scenarios).

- LAMMPS: atom-steps per second of every run (LAMMPS' own "Loop time ... for N steps with M atoms").
- Selection: environments graded per second (reading, descriptors, gamma) in each SelectionCalculation.
- AiiDA overhead, as issue 4 defines it: the workchain's wall time minus the wall time of its CalcJobs
  (the union of the intervals, creation to end, in which at least one ran), as a percentage of the
  workchain's wall time. Goal (issue 4): <= 5 %. Upload, polling and parsing count as CalcJob time.
- Against running directly: the workchain's wall time against the same LAMMPS runs and selections done
  without AiiDA (core.lammps.local + core.jobs.dump_selection, two at a time on 2 cores), which also counts
  what the CalcJobs add (upload, polling, a Python start per selection) and how the jobs share the cores.

Runs in a fresh SQLite profile (`aiida-defectgenome setup` under a temporary AIIDA_PATH). With
`--steps-factors 1 10` it repeats the comparison with every run's MD steps multiplied by 10, which tells
the fixed cost of AiiDA (per job) from the part that grows with the work.
Writes benchmarks/results/eip_sampling.json and .png.
Run: python benchmarks/eip_sampling.py [--steps-factors 1 10] (about 6 minutes, 20 with the factor 10)
"""

import argparse
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
from _results import engine_overhead, write_results  # noqa: E402

SCENARIOS = ['polycrystal', 'tension', 'loop', 'indentation']
SELECTION = {'threshold': 2.0, 'limit': 3, 'radius': 5.0}
_LOOP = re.compile(r'Loop time of ([\d.eE+-]+) on \d+ procs for (\d+) steps with (\d+) atoms')


def overrides(factor: int) -> dict:
    """Protocol overrides that multiply the MD steps of the benchmark's scenarios by ``factor``."""
    from aiida_defectgenome.protocols import read_protocol

    settings = read_protocol('eip_sampling', 'fast')[1]
    return {key: {'steps': settings[key]['steps'] * factor} for key in ('polycrystal', 'deform', 'loop', 'indentation')}


def with_aiida(factor: int) -> dict:
    """Run the workchain in a fresh profile (this script again, in a child process with AIIDA_PATH set)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, 'AIIDA_PATH': tmp}
        subprocess.run([str(Path(sys.executable).parent / 'aiida-defectgenome'), 'setup'], env=env, check=True, capture_output=True)
        command = [sys.executable, __file__, '--aiida-child', str(factor)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def aiida_child(factor: int) -> None:
    from aiida import load_profile, orm

    load_profile()
    from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor
    from aiida_defectgenome.core.doptimality.screening import active_set_of
    from aiida_defectgenome.core.structures.datasets import read_configurations
    from aiida_defectgenome.data.active_set import ActiveSetData
    from aiida_defectgenome.data.potential_registry import load_potential
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET
    from aiida_defectgenome.tools.launch import run_get_node
    from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain

    active = ActiveSetData(active_set_of([a for a, _ in read_configurations(BASIC_W_DATASET)], SnapDescriptor(twojmax=6)))
    builder = EipSamplingWorkChain.get_builder_from_protocol(
        orm.load_code('lammps@localhost'), orm.load_code('python@localhost'), [load_potential('eam-zhou-W')],
        protocol='fast', overrides=overrides(factor), active_set=active, scenarios=SCENARIOS,
        output_group='benchmark-clusters', selection=SELECTION,
    )  # fmt: skip
    start = time.perf_counter()
    _, node = run_get_node(builder)
    wall = time.perf_counter() - start
    overhead = engine_overhead(node)
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
                'calcjob_busy_s': overhead['busy_s'],
                'engine_overhead_s': overhead['overhead_s'],
                'engine_overhead_percent': overhead['overhead_percent'],
                'ok': node.is_finished_ok,
                'loops': loops,
                'selections': selections,
                'clusters': node.outputs.summary['clusters'],
            }
        )
    )


def _loop_lines(log: str) -> list:
    return [(float(t), int(steps), int(atoms)) for t, steps, atoms in _LOOP.findall(log)]


def directly(factor: int) -> dict:
    """The same runs and selections without AiiDA, two at a time."""
    from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor
    from aiida_defectgenome.core.doptimality.screening import active_set_of
    from aiida_defectgenome.core.jobs.dump_selection import select_from_dumps
    from aiida_defectgenome.core.lammps.inputs import TRAJECTORY_DUMP, type_elements
    from aiida_defectgenome.core.lammps.local import relaxed_lattice_constant, run_lammps
    from aiida_defectgenome.core.lammps.potentials import bundled_potential
    from aiida_defectgenome.core.lammps.sampling_plan import plan_runs
    from aiida_defectgenome.core.structures.datasets import read_configurations
    from aiida_defectgenome.protocols import merge_overrides, read_protocol
    from aiida_defectgenome.tools.demo import BASIC_W_DATASET

    active = active_set_of([a for a, _ in read_configurations(BASIC_W_DATASET)], SnapDescriptor(twojmax=6))
    potential = bundled_potential('eam-zhou-W')
    start = time.perf_counter()
    settings = merge_overrides(read_protocol('eip_sampling', 'fast')[1], overrides(factor))
    runs = plan_runs(SCENARIOS, 'W', relaxed_lattice_constant(potential, 'W'), settings)

    def one(run):
        with tempfile.TemporaryDirectory() as tmp:
            run_lammps(run.atoms, potential, run.parameters, keep=Path(tmp))
            species = type_elements(potential.species, run.parameters['frozen'])
            return select_from_dumps(active, [Path(tmp) / TRAJECTORY_DUMP], species, SELECTION)[1]

    with ThreadPoolExecutor(2) as pool:
        summaries = list(pool.map(one, runs))
    return {'wall_s': time.perf_counter() - start, 'clusters': sum(s['clusters'] for s in summaries)}


def comparison(factor: int) -> dict:
    """Throughput and overhead of the benchmark's runs with MD steps multiplied by ``factor``."""
    aiida = with_aiida(factor)
    plain = directly(factor)
    atom_steps = sum(steps * atoms for _, steps, atoms in aiida['loops'])
    loop_s = sum(t for t, _, _ in aiida['loops'])
    environments = sum(s['atoms'] for s in aiida['selections'])
    selection_s = sum(s['atoms'] / s['environments_per_s'] for s in aiida['selections'] if s['environments_per_s'])
    return {
        'steps_factor': factor,
        'lammps_atom_steps_per_s': atom_steps / loop_s,
        'lammps_loop_s': loop_s,
        'selection_environments_per_s': environments / selection_s,
        'workchain_wall_s': aiida['wall_s'],
        'calcjob_busy_s': aiida['calcjob_busy_s'],
        'aiida_overhead_s': aiida['engine_overhead_s'],
        'aiida_overhead_percent': aiida['engine_overhead_percent'],
        'direct_wall_s': plain['wall_s'],
        'slower_than_direct_s': aiida['wall_s'] - plain['wall_s'],
        'slower_than_direct_percent': 100 * (aiida['wall_s'] - plain['wall_s']) / aiida['wall_s'],
        'clusters': {'aiida': aiida['clusters'], 'direct': plain['clusters']},
        'runs': len(aiida['selections']),
    }


def main(factors: list[int]):
    rows = [comparison(factor) for factor in factors]
    result = {'scenarios': SCENARIOS, 'protocol': 'fast', **rows[0], 'by_steps_factor': rows}
    write_results('eip_sampling', result, draw)
    print(json.dumps(result, indent=1))


def draw(plt, result):
    rows = result['by_steps_factor']
    figure, ax = plt.subplots(figsize=(5.5, 4), layout='constrained')
    labels = [f'steps x{row["steps_factor"]}' for row in rows]
    x = range(len(rows))
    ax.bar([k - 0.2 for k in x], [row['workchain_wall_s'] for row in rows], 0.4, label='through AiiDA', color='C0')
    ax.bar([k + 0.2 for k in x], [row['direct_wall_s'] for row in rows], 0.4, label='directly', color='C1')
    for k, row in enumerate(rows):
        text = f'overhead {row["aiida_overhead_percent"]:.1f} %\n+{row["slower_than_direct_percent"]:.0f} % vs direct'
        ax.text(k, row['workchain_wall_s'], text, ha='center', va='bottom', fontsize='small')
    ax.set_ylim(top=1.25 * max(row['workchain_wall_s'] for row in rows))  # room for the labels
    ax.set_xticks(list(x), labels)
    ax.set_ylabel('wall time (s)')
    ax.set_title(f'AiiDA overhead, {result["runs"]} runs of the fast protocol', fontsize='small')
    ax.legend(fontsize='small')
    return figure


if __name__ == '__main__':
    if sys.argv[1:2] == ['--aiida-child']:
        aiida_child(int(sys.argv[2]))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument('--steps-factors', type=int, nargs='+', default=[1], help='multiply the MD steps by these')
        main(parser.parse_args().steps_factors)
