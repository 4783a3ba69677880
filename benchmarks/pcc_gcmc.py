"""PCC-GCMC on the clusters users have: ours (`fast`, `paper`) against the published procedure.

Clusters, all cut at the default 8 A:
- named: ``tests/realistic_clusters.py``, each cut from an EAM-Zhou W simulation of >= 2,000 atoms relaxed
  in LAMMPS (1/2<111> screw of both Burgers vector signs, edge and mixed dislocations, a 1/2<111> loop
  segment, a <100> loop segment, a general grain boundary of a polycrystal, a (010)[001] crack tip under
  load, a tetra-vacancy, a cluster of 7 self-interstitials); never from ideal builders;
- sampled: every cluster that ``aiida-defectgenome sample --potential eam-zhou-W --potential meam-W
  --scenarios all --protocol fast`` gives in a fresh profile (the selection's ``clusters.extxyz`` keep each
  atom's energy in its source snapshot), cached in ``results/pcc_gcmc_sampled.extxyz.gz``
  (``--resample`` makes them again, about 25 minutes on 2 cores).

Methods, every cluster with the EIP it came from (its source energies and the EIP's cohesive energy give
the gap to the ideal embedding):
- ours: ``core.pcc_gcmc.gcmc.run_pcc_gcmc`` with the ``fast`` protocol (every cluster) and ``paper`` (named ones);
- published: reimplemented from the parameters in ``../shared/docs/method.md`` and the behaviour recorded
  in field-notes.md: box = the cluster's extent + 2 A, a 3 x 3 x 3 grid of -1.0/-0.5/0 A on every axis
  (the line's period too), all cluster atoms held by setforce, GCMC inserting anywhere
  (``fix gcmc 10 10 100 2 SEED 100 0.1 0.1 full_energy``, 2000 steps), its ``fix nvt`` defined on the
  inserted group while that is empty, ``minimize 0 1e-12 10000 10000``, no box relaxation; the lowest
  energy per atom among boxes of at most 150 atoms (named clusters only, those of ``--published``).

Figures per cluster: valid or why not, atoms, ``ideal_gap`` (every cluster atom the cell keeps at its
source energy, inserted atoms at the cohesive energy), ``frozen_gap`` (only the frozen ones at theirs),
bcc fraction of the inserted atoms, residual stress, the central atom's descriptor change, the cluster's
own vacancies refilled, CPU. The published cells are judged by the same geometric checks (their frozen
region: the whole cluster). Writes results/pcc_gcmc.json and pcc_gcmc.png.

Run: python benchmarks/pcc_gcmc.py [--jobs 2] [--published KEY ...] [--runs FILE] [--resample] [--redraw]
(1.7 hours on 2 cores with the published procedure on four clusters; each more adds 3-11 CPU minutes.
With --runs FILE, finished runs are kept in FILE as they end, and a second call does only the rest.)
"""

import argparse
import contextlib
import gzip
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

from _results import RESULTS, write_results  # noqa: E402

from aiida_defectgenome.core.doptimality.descriptors import SnapDescriptor  # noqa: E402
from aiida_defectgenome.core.lammps.library import apply_potential, open_lammps  # noqa: E402
from aiida_defectgenome.core.lammps.potentials import bundled_potential  # noqa: E402
from aiida_defectgenome.core.pcc_gcmc import gcmc  # noqa: E402
from aiida_defectgenome.core.pcc_gcmc.assessment import environment_change  # noqa: E402
from aiida_defectgenome.core.pcc_gcmc.box_search import ImpossibleBox  # noqa: E402
from aiida_defectgenome.core.pcc_gcmc.cell_checks import cell_problems, nearest_neighbour_distance  # noqa: E402
from aiida_defectgenome.core.structures.analysis import adaptive_cna, structure_fractions  # noqa: E402
from aiida_defectgenome.core.structures.geometry import minimum_image  # noqa: E402
from aiida_defectgenome.workflows.pcc_gcmc import load_protocol  # noqa: E402
from tests.realistic_clusters import BUILDERS, realistic_cluster  # noqa: E402

SAMPLED = RESULTS / 'pcc_gcmc_sampled.extxyz.gz'
SAMPLE_COMMAND = ['--potential', 'eam-zhou-W', '--potential', 'meam-W', '--scenarios', 'all', '--protocol', 'fast']
MAX_ATOMS = 150


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


# --- the clusters -------------------------------------------------------------------------------------


def make_sampled(path: Path) -> None:
    """Run ``sample`` with both EIPs in a fresh profile and write its clusters, with source energies, to ``path``."""
    with tempfile.TemporaryDirectory(prefix='dg-pcc-bench-') as folder:
        env = {**os.environ, 'AIIDA_PATH': folder}
        command = [str(Path(sys.executable).parent / 'aiida-defectgenome')]
        basic = ROOT / 'aiida_defectgenome' / 'resources' / 'W-basic-dft.extxyz.gz'
        for args in (['setup'], ['genome', 'import', str(basic), '--group', 'w-basic']):
            subprocess.run(command + args, env=env, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run(
            command + ['sample', *SAMPLE_COMMAND, '--reference', 'w-basic', '--group', 'w-clusters'], env=env, check=True
        )
        print(f'sampling took {time.perf_counter() - start:.0f} s')
        subprocess.run([sys.executable, __file__, '--collect', str(path)], env=env, check=True)


def collect(path: Path) -> None:
    """Write the clusters of every finished selection of the current profile to ``path`` (extxyz, gzip)."""
    import io

    import ase.io
    from aiida import load_profile, orm

    from aiida_defectgenome.calculations.selection import SelectionCalculation

    load_profile()
    frames = []
    for calc in orm.QueryBuilder().append(SelectionCalculation, filters={'attributes.exit_status': 0}).all(flat=True):
        text = calc.outputs.retrieved.base.repository.get_object_content('clusters.extxyz')
        for atoms in ase.io.read(io.StringIO(text), index=':', format='extxyz') if text.strip() else []:
            atoms.arrays['source_energies'] = atoms.calc.results['energies']
            atoms.calc = None
            frames.append(atoms)
    with gzip.open(path, 'wt') as handle:
        ase.io.write(handle, frames, format='extxyz')
    print(f'{len(frames)} clusters -> {path}')


def sampled_clusters() -> list:
    import ase.io

    with gzip.open(SAMPLED, 'rt') as handle:
        return ase.io.read(handle, index=':', format='extxyz')


def cluster_case(key: str):
    """``(name, cluster, source energies, potential name, empty sites or None)`` of a named or sampled cluster."""
    if key.startswith('sampled '):
        atoms = sampled_clusters()[int(key.split()[1])]
        name = f'{atoms.info["scenario"]} {atoms.info["variant"]} ({atoms.info["potential"]})'
        return name, atoms, atoms.arrays['source_energies'], atoms.info['potential'], None
    case = realistic_cluster(key)
    return case.name, case.cluster, case.cluster.arrays['energies'], 'eam-zhou-W', case.empty_sites


# --- judging ----------------------------------------------------------------------------------------


def refilled(cell, centre: np.ndarray, empty_sites) -> int | None:
    """How many of the cluster's own vacancies (sites relative to the central atom) hold an atom."""
    if empty_sites is None:
        return None
    sites = centre + empty_sites
    gaps = minimum_image((cell.positions[None] - sites[:, None]).reshape(-1, 3), cell.cell[:], [True] * 3)
    nearest = np.linalg.norm(gaps, axis=1).reshape(len(sites), -1).min(axis=1)
    return int(np.sum(nearest < 0.5 * nearest_neighbour_distance(cell.positions)))


def run_ours(key: str, protocol: str) -> dict:
    name, cluster, energies, potential_name, empty = cluster_case(key)
    potential = bundled_potential(potential_name)
    start = _cpu()
    cohesive = gcmc.cohesive_energy(potential, 'W')
    try:
        result = gcmc.run_pcc_gcmc(cluster, potential, load_protocol(protocol)[1], source_energies=energies, cohesive=cohesive)
    except ImpossibleBox as exc:
        return {'key': key, 'name': name, 'method': protocol, 'valid': False, 'why': [f'refused: {exc}'], 'cpu_s': _cpu() - start}
    best = result.candidates[result.chosen] if result.chosen is not None else None
    row = {
        'key': key,
        'name': name,
        'method': protocol,
        'potential': potential_name,
        'cluster_atoms': len(cluster),
        'n_core': result.source['n_core'],
        'valid': best is not None,
        'valid_boxes': sum(c['valid'] for c in result.candidates),
        'boxes': len(result.candidates),
        'why': sorted({p for c in result.candidates for p in c['problems']}) if best is None else [],
        'cpu_s': _cpu() - start,
    }
    if best is not None:
        row.update(
            natoms=best['natoms'],
            ideal_gap=best['ideal_gap'],
            frozen_gap=best['frozen_gap'],
            inserted_bcc=best['inserted_structure']['bcc'],
            max_abs_stress=best['max_abs_stress'],
            max_abs_relaxable_stress=best['max_abs_relaxable_stress'],
            environment_change=best['environment_change'],
            trimmed=len(best['trimmed']),
            lengths=best['lengths'],
            refilled=refilled(result.cell, result.cell.positions[0], empty),
            round=best['round'],
        )
    return row


def published_box(cluster, lengths, seed, potential):
    """One box of the published procedure: (cell Atoms, per-atom energies, stress (3, 3) GPa, placed positions)."""
    from ase import Atoms

    from aiida_defectgenome.core.lammps.inputs import lammps_frame

    cell = np.diag(lengths)
    positions = cluster.positions - cluster.positions.min(axis=0) + 0.5 * (np.array(lengths) - np.ptp(cluster.positions, axis=0))
    if cluster.pbc[2]:
        positions[:, 2] = cluster.positions[:, 2]
    positions = positions % lengths
    lmp = open_lammps()
    lmp.commands_list(
        [
            'units metal',
            'atom_style atomic',
            'atom_modify map array',
            'boundary p p p',
            f'region box block 0 {lengths[0]} 0 {lengths[1]} 0 {lengths[2]}',
            'create_box 2 box',
        ]
    )
    apply_potential(lmp, potential, ['W', 'W'])
    lmp.create_atoms(len(positions), list(range(1, len(positions) + 1)), [1] * len(positions), positions.ravel().tolist())
    lmp.commands_list(
        [
            'group core type 1',
            'fix hold core setforce 0 0 0',
            'group inserted type 2',
            'fix thermostat inserted nvt temp 100 100 0.1',  # empty when defined: never acts
            f'fix exchange all gcmc 10 10 100 2 {seed} 100 0.1 0.1 full_energy',
            'compute pe_atom all pe/atom',
            'thermo_style custom step pe atoms pxx pyy pzz pxy pxz pyz',
            'run 2000',
            'unfix exchange',
            'min_style cg',
            'minimize 0 1e-12 10000 10000',
        ]
    )
    count = lmp.get_natoms()
    x = lmp.numpy.extract_atom('x')[:count].copy()
    ids = lmp.numpy.extract_atom('id')[:count].copy()
    energies = lmp.numpy.extract_compute('pe_atom', 1, 1)[:count].copy()
    stress = -1e-4 * np.array([[lmp.get_thermo(f'p{a}{b}' if a <= b else f'p{b}{a}') for b in 'xyz'] for a in 'xyz'])
    lmp.close()
    order = np.argsort(ids)
    atoms = Atoms('W' * count, positions=x[order], cell=lammps_frame(cell)[0], pbc=True)
    return atoms, energies[order], stress, positions


def run_published(key: str, seed: int = 12345) -> dict:
    name, cluster, energies, potential_name, empty = cluster_case(key)
    potential = bundled_potential(potential_name)
    start = _cpu()
    cohesive = gcmc.cohesive_energy(potential, 'W')
    nn = nearest_neighbour_distance(cluster.positions)
    row_source = SnapDescriptor().compute(cluster)[0]
    extent = np.ptp(cluster.positions, axis=0) + 2.0
    if cluster.pbc[2]:
        extent[2] = cluster.cell[2, 2]
    boxes = []
    for shift in itertools.product((-1.0, -0.5, 0.0), repeat=3):
        lengths = extent + np.array(shift)
        atoms, per_atom, stress, placed = published_box(cluster, lengths, seed, potential)
        inserted = np.arange(len(cluster), len(atoms))
        radius = cluster.info['cut_radius']
        centre = placed[0]

        def outside(points, atoms=atoms, centre=centre):
            vectors = minimum_image(points - centre, atoms.cell[:], [True] * 3)
            if cluster.pbc[2]:
                vectors[:, 2] = 0.0
            return np.linalg.norm(vectors, axis=1) > radius

        problems = cell_problems(atoms, placed, nn, outside, max_atoms=MAX_ATOMS)
        ideal = (energies.sum() + len(inserted) * cohesive) / len(atoms)
        boxes.append(
            {
                'lengths': np.round(lengths, 3).tolist(),
                'natoms': len(atoms),
                'energy_per_atom': float(per_atom.sum() / len(atoms)),
                'ideal_gap': float(per_atom.sum() / len(atoms) - ideal),
                'inserted_bcc': structure_fractions(adaptive_cna(atoms, inserted))['bcc'] if len(inserted) else 0.0,
                'max_abs_stress': float(np.abs(stress).max()),
                'valid': not problems,
                'problems': problems,
                'environment_change': environment_change(row_source, SnapDescriptor().compute(atoms)[0]),
                'period_kept': (not cluster.pbc[2]) or bool(abs(lengths[2] - cluster.cell[2, 2]) < 1e-9),
                'refilled': refilled(atoms, placed[0], empty),
            }
        )
    fitting = [b for b in boxes if b['natoms'] <= MAX_ATOMS]
    best = min(fitting, key=lambda b: b['energy_per_atom']) if fitting else None
    return {
        'key': key,
        'name': name,
        'method': 'published',
        'potential': potential_name,
        'cluster_atoms': len(cluster),
        'valid': bool(best and best['valid']),
        'why': (best or {}).get('problems', ['no box of at most 150 atoms']),
        'cpu_s': _cpu() - start,
        'fitting_boxes': len(fitting),
        **({key: best[key] for key in best if key not in ('problems', 'valid')} if best else {}),
    }


def _job(job):
    method, key = job
    try:
        return run_published(key) if method == 'published' else run_ours(key, method)
    except Exception as exc:  # a crash is a result too: recorded, not lost with the other runs
        return {'key': key, 'name': key, 'method': method, 'valid': False, 'why': [f'crashed: {exc!r}'], 'cpu_s': float('nan')}


# --- the report -------------------------------------------------------------------------------------


def _count(runs: list, method: str) -> str:
    mine = [r for r in runs if r['method'] == method]
    return f'{sum(r["valid"] for r in mine)} of {len(mine)}'


def summarise(runs: list) -> dict:
    """The issue's goals, measured."""
    named = [r for r in runs if not r['key'].startswith('sampled ')]
    fast = [r for r in runs if r['method'] == 'fast']
    ours = [r for r in runs if r['method'] in ('fast', 'paper') and r['valid']]
    gaps = [r['ideal_gap'] for r in fast if r['valid']]
    cpu = {}
    for key in {r['key'] for r in named}:
        mine = {r['method']: r['cpu_s'] for r in named if r['key'] == key}
        if 'published' in mine:
            cpu[key] = {method: mine[method] / mine['published'] for method in ('fast', 'paper') if method in mine}
    return {
        'fast_valid': f'{sum(r["valid"] for r in fast)} of {len(fast)}',
        'fast_valid_fraction': sum(r['valid'] for r in fast) / len(fast),
        'sampled_fast_valid': f'{sum(r["valid"] for r in fast if r["key"].startswith("sampled "))} of '
        f'{sum(r["key"].startswith("sampled ") for r in fast)}',
        'named_paper_valid': _count(named, 'paper'),
        'named_fast_valid': _count(named, 'fast'),
        'fast_gap_median': float(np.median(gaps)) if gaps else None,
        'fast_gap_max': float(np.max(gaps)) if gaps else None,
        'fast_gaps_above_0.25': int(sum(g > 0.25 for g in gaps)),
        'fast_from_second_round': sum(r.get('round', 1) == 2 for r in fast if r['valid']),
        'environment_change_max': max(r['environment_change'] or 0.0 for r in ours) if ours else None,
        'refilled_vacancies': sum(r.get('refilled') or 0 for r in ours),
        'cpu_over_published': cpu,
        'cpu_over_published_max': max((v for ratios in cpu.values() for v in ratios.values()), default=None),
    }


def draw(plt, result):
    runs = result['runs']
    named = [k for k in result['named']]
    figure, axes = plt.subplots(1, 3, figsize=(17, 5), layout='constrained')
    for k, method in enumerate(('published', 'paper', 'fast')):
        rows = [next((r for r in runs if r['key'] == key and r['method'] == method), {}) for key in named]
        x = np.arange(len(named)) + 0.27 * (k - 1)
        gaps = [r.get('ideal_gap', np.nan) for r in rows]
        bars = axes[0].bar(x, gaps, 0.27, label=method, color=f'C{k}')
        for xi, row, bar in zip(x, rows, bars):
            if row and not row['valid']:
                bar.set_hatch('//')
                bar.set_alpha(0.45)
                if np.isnan(row.get('ideal_gap', np.nan)):
                    axes[0].text(xi, 0.005, 'no cell', rotation=90, ha='center', va='bottom', fontsize=7)
        axes[1].bar(x, [r.get('cpu_s', np.nan) for r in rows], 0.27, label=method, color=f'C{k}')
    labels = [next(r['name'] for r in runs if r['key'] == key) for key in named]
    for ax, label in zip(axes[:2], ('gap to the ideal embedding (eV/atom); hatched: not valid', 'CPU per cluster (s)')):
        ax.set_xticks(range(len(named)), labels, rotation=60, ha='right', fontsize=8)
        ax.set_ylabel(label)
    axes[0].axhline(0.10, color='grey', linestyle='--', linewidth=0.8)
    axes[0].axhline(0.25, color='grey', linestyle=':', linewidth=0.8)
    axes[1].set_yscale('log')
    axes[0].legend(fontsize='small')
    sampled = [r for r in runs if r['key'].startswith('sampled ') and r['method'] == 'fast']
    valid = [r['ideal_gap'] for r in sampled if r['valid']]
    axes[2].hist(valid, bins=np.arange(-0.05, 0.6, 0.025), color='C2')
    axes[2].axvline(0.10, color='grey', linestyle='--', linewidth=0.8)
    axes[2].axvline(0.25, color='grey', linestyle=':', linewidth=0.8)
    axes[2].set_xlabel('gap to the ideal embedding (eV/atom)')
    axes[2].set_ylabel('sampled clusters (fast protocol)')
    axes[2].set_title(f'{len(valid)} of {len(sampled)} sampled clusters valid', fontsize='small')
    return figure


def main(jobs: int, resample: bool, published: list, runs_file: Path):
    if resample or not SAMPLED.exists():
        make_sampled(SAMPLED)
    named = list(BUILDERS)
    sampled = [f'sampled {i}' for i in range(len(sampled_clusters()))]
    work = (
        [('published', key) for key in published] + [('paper', key) for key in named] + [('fast', key) for key in named + sampled]
    )
    runs = [json.loads(line) for line in runs_file.read_text().splitlines()] if runs_file and runs_file.exists() else []
    done = {(r['method'], r['key']) for r in runs}
    work = [job for job in work if job not in done]
    start = time.perf_counter()
    with Pool(jobs) as pool, runs_file.open('a') if runs_file else contextlib.nullcontext() as keep:
        for row in pool.imap_unordered(_job, work):
            runs.append(row)
            if keep:
                keep.write(json.dumps(row) + '\n')
                keep.flush()
            print(
                f'{len(runs)}/{len(work)} {row["method"]:9s} {row["name"][:40]:40s} valid {row["valid"]} '
                f'gap {row.get("ideal_gap", float("nan")):.3f} cpu {row["cpu_s"]:.0f} s',
                flush=True,
            )
    result = {
        'potentials': ['eam-zhou-W', 'meam-W'],
        'named': named,
        'published_on': published,
        'sample_command': 'aiida-defectgenome sample ' + ' '.join(SAMPLE_COMMAND),
        'wall_s': time.perf_counter() - start,
        'summary': summarise(runs),
        'runs': sorted(runs, key=lambda r: (r['method'], r['key'])),
    }
    write_results('pcc_gcmc', result, draw)
    print(json.dumps(result['summary'], indent=1))


def redraw():
    write_results('pcc_gcmc', json.loads((RESULTS / 'pcc_gcmc.json').read_text()), draw)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--resample', action='store_true', help='make the sampled clusters again')
    parser.add_argument('--redraw', action='store_true', help='only draw the PNG again from the JSON')
    parser.add_argument(
        '--published',
        nargs='*',
        default=list(BUILDERS),
        metavar='KEY',
        help='named clusters to run the published procedure on (3-11 CPU minutes each; default: all)',
    )
    parser.add_argument(
        '--runs',
        type=Path,
        metavar='FILE',
        help='keep finished runs in FILE (JSON lines) as they end; runs already in it are not repeated (resume)',
    )
    parser.add_argument('--collect', metavar='FILE', help=argparse.SUPPRESS)  # internal: inside the sampling profile
    arguments = parser.parse_args()
    if arguments.collect:
        collect(Path(arguments.collect))
    elif arguments.redraw:
        redraw()
    else:
        main(arguments.jobs, arguments.resample, arguments.published, arguments.runs)
