"""PCC-GCMC: the published procedure against ours, on the same three W clusters (EAM-Zhou).

Clusters: a 1/2<111> screw dislocation core (cylinder, 8 A radius, 3 b long, periodic along the line),
a compact sphere (6 A) around a four-vacancy cluster, the issue's 133-atom sphere (8 A) around the same
cluster (no box of either method fits 150 atoms: recorded as refused), and a sphere (6 A) on a general
grain boundary (two crystals: our search falls back to a 0.5 A grid of non-commensurate boxes).

- published: reimplemented from the parameters in ../shared/docs/method.md and the behaviour recorded in
  field-notes.md: the box is the cluster's extent + 2 A, scanned over a 3 x 3 x 3 grid of -1.0/-0.5/0 A on
  every axis (the line's period too); core atoms type 1 held by setforce, GCMC inserts type 2 anywhere
  (`fix gcmc 10 10 100 2 SEED 100 0.1 0.1 full_energy`, 2000 steps), its `fix nvt` defined on the
  inserted group while that is empty, `minimize 0 1e-12 10000 10000` (cg), no box relaxation, one seed
  for all boxes; the lowest energy per atom among boxes of at most 150 atoms.
- ours: core.gcmc.run_pcc_gcmc with the `paper` protocol (relaxed box) and the same with a fixed box.

Both are judged by the same checks (core.gcmc.assess_candidate). Seeds: three per method on the
chosen box. Writes benchmarks/results/pcc_gcmc.json and pcc_gcmc.png.
Run: python benchmarks/pcc_gcmc.py   (about 70 minutes on 2 cores; --redraw: the PNG again from the JSON)
"""

import itertools
import resource
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_results  # noqa: E402

from aiida_defectgenome.core import gcmc  # noqa: E402
from aiida_defectgenome.core.box_search import ImpossibleBox  # noqa: E402
from aiida_defectgenome.core.clusters import cut_neighbourhood  # noqa: E402
from aiida_defectgenome.core.lammps_library import open_lammps  # noqa: E402
from aiida_defectgenome.core.potentials import bundled_potential  # noqa: E402
from aiida_defectgenome.core.structure_analysis import adaptive_cna, structure_fractions  # noqa: E402
from aiida_defectgenome.workflows.pcc_gcmc import load_protocol  # noqa: E402
from tests.defect_cells import grain_boundary, screw_dislocation, vacancy_cluster  # noqa: E402

E_COH = -8.75999
SEEDS = (12345, 271828, 314159)


def clusters() -> dict:
    """``{name: (cluster, source energies of its atoms, vacancy sites relative to the centre or None)}``."""
    result = {}
    source, site = screw_dislocation()
    centre = int(np.argmin(np.linalg.norm(source.positions - site[0], axis=1)))
    cluster = cut_neighbourhood(source, centre, radius=8.0, periodic_axes=(2,))
    result['screw core'] = (cluster, source.arrays['energies'][cluster.arrays['source_index']], None)
    source, sites = vacancy_cluster()
    centre = int(np.argmin(np.linalg.norm(source.positions - sites.mean(axis=0), axis=1)))
    cluster = cut_neighbourhood(source, centre, radius=6.0)
    result['tetra-vacancy'] = (cluster, source.arrays['energies'][cluster.arrays['source_index']], sites - source.positions[centre])
    cluster = cut_neighbourhood(source, centre, radius=8.0)
    result['tetra-vacancy 8 A'] = (
        cluster,
        source.arrays['energies'][cluster.arrays['source_index']],
        sites - source.positions[centre],
    )
    source, _ = grain_boundary()
    centre = int(np.argmin(np.abs(source.positions[:, 2]) + 0.1 * np.linalg.norm(source.positions[:, :2], axis=1)))
    cluster = cut_neighbourhood(source, centre, radius=6.0)
    result['grain boundary'] = (cluster, source.arrays['energies'][cluster.arrays['source_index']], None)
    return result


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def published_box(cluster, lengths, seed):
    """One box of the published procedure; return (cell Atoms, per-atom energies, stress (3, 3) GPa)."""
    from ase import Atoms

    from aiida_defectgenome.core.lammps_input import lammps_frame

    cell = np.diag(lengths)
    positions = cluster.positions - cluster.positions.min(axis=0) + 0.5 * (np.array(lengths) - np.ptp(cluster.positions, axis=0))
    if cluster.pbc[2]:
        positions[:, 2] = cluster.positions[:, 2]
    positions = positions % lengths
    potential = bundled_potential('eam-zhou-W')
    lmp = open_lammps()
    lmp.commands_list(
        [
            'units metal',
            'atom_style atomic',
            'atom_modify map array',
            'boundary p p p',
            f'region box block 0 {lengths[0]} 0 {lengths[1]} 0 {lengths[2]}',
            'create_box 2 box',
            'mass * 183.84',
            'pair_style eam/alloy',
            f'pair_coeff * * {potential.files[0]} W W',
        ]
    )
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


def run_published(name, cluster, energies, vacancies, seed=SEEDS[0], grid=True):
    start, cpu = time.perf_counter(), _cpu()
    extent = np.ptp(cluster.positions, axis=0) + 2.0
    if cluster.pbc[2]:
        extent[2] = cluster.cell[2, 2]
    shifts = list(itertools.product((-1.0, -0.5, 0.0), repeat=3)) if grid else [(0.0, 0.0, 0.0)]
    boxes = []
    for shift in shifts:
        lengths = extent + np.array(shift)
        atoms, per_atom, stress, placed = published_box(cluster, lengths, seed)
        boxes.append(_judge(cluster, energies, vacancies, atoms, per_atom, stress, placed, lengths))
    fitting = [b for b in boxes if b['natoms'] <= 150]
    best = min(fitting, key=lambda b: b['energy_per_atom']) if fitting else None
    return {
        'cluster': name,
        'method': 'published',
        'seed': seed,
        'best': best,
        'boxes': boxes,
        'fitting_boxes': len(fitting),
        'cpu_s': _cpu() - cpu,
        'wall_s': time.perf_counter() - start,
    }


def _judge(cluster, energies, vacancies, atoms, per_atom, stress, placed, lengths):
    """The figures the issue asks for, for a published-procedure cell (core atoms first)."""
    n_core = len(cluster)
    inserted = np.arange(n_core, len(atoms))
    ideal = (energies.sum() + len(inserted) * E_COH) / len(atoms)
    bulk_atoms = atoms.get_volume() / 15.850
    figures = {
        'lengths': np.round(lengths, 3).tolist(),
        'natoms': len(atoms),
        'energy_per_atom': float(per_atom.sum() / len(atoms)),
        'ideal_gap': float(per_atom.sum() / len(atoms) - ideal),
        'inserted_bcc': structure_fractions(adaptive_cna(atoms, inserted))['bcc'] if len(inserted) else 0.0,
        'max_abs_stress': float(np.abs(stress).max()),
        'fill_fraction': len(atoms) / bulk_atoms,
        'period_kept': (not cluster.pbc[2]) or bool(abs(lengths[2] - cluster.cell[2, 2]) < 1e-9),
        'largest_empty_sphere': _largest_pocket(cluster, atoms, placed[0]),
    }
    if vacancies is not None:
        from aiida_defectgenome.core.geometry import minimum_image

        sites = placed[0] + vacancies
        d = np.linalg.norm(
            minimum_image((atoms.positions[None] - sites[:, None]).reshape(-1, 3), atoms.cell[:], [True] * 3), axis=1
        )
        figures['vacancies_refilled'] = int(np.sum(d.reshape(len(sites), -1).min(axis=1) < 0.5 * 2.74))
    return figures


def _largest_pocket(cluster, atoms, centre) -> float:
    """Radius (A) of the largest empty sphere outside the cut region (our vacuum check; its bound is 0.8 nn = 2.19 A)."""
    from aiida_defectgenome.core.cell_checks import largest_empty_sphere
    from aiida_defectgenome.core.geometry import minimum_image

    def outside(points):
        d = minimum_image(points - centre, atoms.cell[:], [True] * 3)
        if cluster.pbc[2]:
            d[:, 2] = 0.0
        return np.linalg.norm(d, axis=1) > cluster.info['cut_radius']

    return largest_empty_sphere(atoms, outside)


def run_ours(name, cluster, energies, vacancies, relax_box=True, seed=SEEDS[0]):
    start, cpu = time.perf_counter(), _cpu()
    parameters = {**load_protocol('paper')[1], 'relax_box': relax_box, 'seed': seed}
    try:
        result = gcmc.run_pcc_gcmc(cluster, bundled_potential('eam-zhou-W'), parameters, source_energies=energies, cohesive=E_COH)
    except ImpossibleBox as exc:  # an honest outcome: no box within the atom budget
        return {
            'cluster': name,
            'method': 'ours' if relax_box else 'ours, fixed box',
            'seed': seed,
            'best': None,
            'refused': str(exc),
            'boxes': [],
            'cpu_s': _cpu() - cpu,
            'wall_s': time.perf_counter() - start,
        }
    best = result.candidates[result.chosen] if result.chosen is not None else None
    lowest_invalid = min(result.candidates, key=lambda c: c['energy_per_atom']) if best is None and result.candidates else None
    if best is not None:
        best = {**best, 'inserted_bcc': best['inserted_structure']['bcc'], 'period_kept': True}
        if vacancies is not None:
            from aiida_defectgenome.core.geometry import minimum_image

            cell = result.cell
            sites = cell.positions[0] + vacancies
            d = np.linalg.norm(
                minimum_image((cell.positions[None] - sites[:, None]).reshape(-1, 3), cell.cell[:], [True] * 3), axis=1
            )
            best['vacancies_refilled'] = int(np.sum(d.reshape(len(sites), -1).min(axis=1) < 0.5 * 2.74))
    return {
        'cluster': name,
        'method': 'ours' if relax_box else 'ours, fixed box',
        'seed': seed,
        'best': best,
        'lowest_invalid': lowest_invalid,
        'boxes': result.candidates,
        'cpu_s': _cpu() - cpu,
        'wall_s': time.perf_counter() - start,
    }


def _job(args):
    kind, name, seed = args
    cluster, energies, vacancies = clusters()[name]
    if kind == 'published':
        return run_published(name, cluster, energies, vacancies, seed, grid=seed == SEEDS[0])
    return run_ours(name, cluster, energies, vacancies, relax_box=kind == 'ours', seed=seed)


def draw(plt, result):
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout='constrained')
    names = list(result['clusters'])
    for k, method in enumerate(('published', 'ours, fixed box', 'ours')):
        rows = [result['summary'][n][method] for n in names]
        x = np.arange(len(names)) + 0.27 * (k - 1)
        gaps = [row['ideal_gap'] if row['ideal_gap'] is not None else np.nan for row in rows]
        bars = axes[0].bar(x, gaps, 0.27, label=method, color=f'C{k}')
        invalid = [(row.get('lowest_invalid') or {}).get('ideal_gap', np.nan) for row in rows]
        axes[0].bar(x, invalid, 0.27, color=bars.patches[0].get_facecolor(), alpha=0.35, hatch='//')
        for xi, row in zip(x, rows):
            if row.get('refused'):
                axes[0].text(xi, 0.01, 'refused', rotation=90, ha='center', va='bottom', fontsize=7)
        axes[1].bar(x, [row['cpu_s'] for row in rows], 0.27, label=method, color=f'C{k}')
    axes[0].set_title('hatched: best of the invalid cells (none valid)', fontsize='small')
    for ax, label in zip(axes, ('gap to the ideal embedding (eV/atom)', 'CPU time (s)')):
        ax.set_xticks(range(len(names)), names, rotation=15)
        ax.set_ylabel(label)
    axes[0].axhline(0.10, color='grey', linestyle='--', linewidth=0.8)
    axes[0].legend(fontsize='small')
    return figure


def redraw():
    """Draw the PNG again from the JSON (no runs)."""
    import json

    from _results import RESULTS

    write_results('pcc_gcmc', json.loads((RESULTS / 'pcc_gcmc.json').read_text()), draw)


def main():
    names = list(clusters())
    jobs = [('published', n, s) for n in names for s in SEEDS] + [('ours', n, s) for n in names for s in SEEDS]
    jobs += [('ours, fixed box', n, SEEDS[0]) for n in names]
    with Pool(2) as pool:
        runs = pool.map(_job, jobs)
    summary = {}
    for name in names:
        summary[name] = {}
        for method in ('published', 'ours', 'ours, fixed box'):
            mine = [r for r in runs if r['cluster'] == name and r['method'] == method]
            first = mine[0]
            best = first['best'] or {}
            # the published seeds are compared on one box (the full grid runs with the first seed only)
            seeds = [
                r['boxes'][-1]['energy_per_atom'] if method == 'published' else r['best']['energy_per_atom']
                for r in mine
                if r['best']
            ]
            summary[name][method] = {
                **{
                    key: best.get(key)
                    for key in (
                        'natoms',
                        'energy_per_atom',
                        'ideal_gap',
                        'inserted_bcc',
                        'max_abs_stress',
                        'max_abs_relaxable_stress',
                        'fill_fraction',
                        'period_kept',
                        'vacancies_refilled',
                        'lengths',
                    )
                },
                'seed_spread': (max(seeds) - min(seeds)) if len(seeds) > 1 else None,
                'cpu_s': first['cpu_s'],
                'wall_s': first['wall_s'],
                'boxes_run': len(first['boxes']),
                'refused': first.get('refused'),
                'lowest_invalid': {
                    key: first['lowest_invalid'][key]
                    for key in ('natoms', 'energy_per_atom', 'ideal_gap', 'fill_fraction', 'problems')
                }
                if first.get('lowest_invalid')
                else None,
                'valid_or_fitting_boxes': first.get('fitting_boxes', sum(b.get('valid', False) for b in first['boxes'])),
            }
    result = {'clusters': names, 'summary': summary, 'runs': runs, 'potential': 'eam-zhou-W', 'cohesive_energy': E_COH}
    write_results('pcc_gcmc', result, draw)
    for name in names:
        for method, row in summary[name].items():
            print(name, method, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items() if k != 'lengths'})


if __name__ == '__main__':
    redraw() if sys.argv[1:] == ['--redraw'] else main()
