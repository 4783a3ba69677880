"""Accuracy, training time and MD cost of the built-in SNAP trainer, beside the paper's Table S2.

On the authors' W basic set (or any labelled file given with --dataset): random 90/10 split by
configuration (seed 0; the `default` protocol also with seeds 1-4), energy residuals per atom with
weight 1, force components with weight 0.01, relative ridge 1e-10 (the protocols' settings). Cost: LAMMPS
MD (NVE, 300 K start) of a 2000-atom bcc W cell, atom-steps per second, against EAM-Zhou on the same cell.
Writes benchmarks/results/training.json and .png.   Run: python benchmarks/training.py (about 10 minutes on 2 cores)
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase.build import bulk

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

from aiida_defectgenome.core.datasets import read_configurations  # noqa: E402
from aiida_defectgenome.core.lammps_library import apply_potential, load_atoms, open_lammps  # noqa: E402
from aiida_defectgenome.core.potentials import bundled_potential  # noqa: E402
from aiida_defectgenome.core.snap_basis import SnapBasis  # noqa: E402
from aiida_defectgenome.core.snap_fit import FitWeights  # noqa: E402
from aiida_defectgenome.core.snap_training import TrainingData, train_snap  # noqa: E402
from aiida_defectgenome.tools.demo import BASIC_W_DATASET  # noqa: E402

#: Table S2 of the paper (test set; train in brackets in method.md) and MD cost relative to EAM.
PUBLISHED = {
    'MTP level 12': {'energy_rmse_mev_per_atom': 11.51, 'force_rmse_mev_per_a': 200, 'cost_vs_eam': 28},
    'MTP level 16': {'energy_rmse_mev_per_atom': 6.31, 'force_rmse_mev_per_a': 172},
    'MTP level 20': {'energy_rmse_mev_per_atom': 4.13, 'force_rmse_mev_per_a': 136, 'cost_vs_eam': 195},
    'ACE': {'energy_rmse_mev_per_atom': 4.28, 'force_rmse_mev_per_a': 161, 'cost_vs_eam': 30},
}
MODELS = {  # name: (twojmax, quadratic, protocol it is)
    'linear SNAP 2J=6': (6, False, None),
    'linear SNAP 2J=8': (8, False, None),
    'quadratic SNAP 2J=4': (4, True, 'fast'),
    'quadratic SNAP 2J=6': (6, True, 'default'),
    'quadratic SNAP 2J=8': (8, True, None),
}
WEIGHTS = FitWeights(energy=1.0, force=0.01, stress=0.0, ridge=1e-10)


def md_speed(potential, steps=200) -> float:
    """Atom-steps per second of NVE MD on 2000 bcc W atoms, one process."""
    atoms = bulk('W', 'bcc', a=3.18, cubic=True).repeat(10)
    lmp = open_lammps()
    try:
        apply_potential(lmp, potential, load_atoms(lmp, atoms))
        lmp.commands_list(['velocity all create 300 1', 'fix nve all nve', 'timestep 0.001', 'run 10'])
        start = time.perf_counter()
        lmp.command(f'run {steps}')
        return len(atoms) * steps / (time.perf_counter() - start)
    finally:
        lmp.close()


def main(dataset: Path):
    configurations = read_configurations(dataset)
    eam_speed = md_speed(bundled_potential('eam-zhou-W'))
    results = {}
    for name, (twojmax, quadratic, protocol) in MODELS.items():
        start = time.perf_counter()
        data = TrainingData.build(SnapBasis(('W',), twojmax=twojmax, quadratic=quadratic), configurations)
        descriptors = time.perf_counter() - start
        seeds = range(5) if protocol == 'default' else [0]
        runs = []
        for seed in seeds:
            start = time.perf_counter()
            fit = train_snap(data, WEIGHTS, test_fraction=0.1, seed=seed)
            runs.append((fit, time.perf_counter() - start))
        fit, seconds = runs[0]
        with tempfile.TemporaryDirectory() as tmp:
            speed = md_speed(fit.model.potential_spec(tmp, 'model'))
        entry = {
            'protocol': protocol,
            'coefficients': data.basis.columns,
            'train': {k: v for k, v in fit.metrics['train'].items() if k != 'groups'},
            'test': {k: v for k, v in fit.metrics['test'].items() if k != 'groups'},
            'descriptor_seconds': round(descriptors, 1),
            'fit_seconds': round(seconds, 1),
            'md_atom_steps_per_second': round(speed),
            'cost_vs_eam': round(eam_speed / speed, 1),
        }
        if len(runs) > 1:
            entry['test_over_seeds'] = {
                key: {'mean': float(np.mean(values)), 'min': float(np.min(values)), 'max': float(np.max(values))}
                for key in ('energy_rmse_mev_per_atom', 'force_rmse_mev_per_a')
                for values in [[run.metrics['test'][key] for run, _ in runs]]
            }
        results[name] = entry
        test = entry['test']
        print(
            f'{name}: {entry["coefficients"]} coefficients, test {test["energy_rmse_mev_per_atom"]:.2f} meV/atom, '
            f'{test["force_rmse_mev_per_a"]:.1f} meV/A; descriptors {descriptors:.0f} s, fit {seconds:.1f} s, '
            f'MD {entry["cost_vs_eam"]}x EAM',
            flush=True,
        )
    summary = {
        'dataset': dataset.name,
        'configurations': len(configurations),
        'split': 'random 90/10 by configuration, seed 0',
        'weights': vars(WEIGHTS),
        'eam_md_atom_steps_per_second': round(eam_speed),
        'ours': results,
        'published_table_s2': PUBLISHED,
    }
    write_results('training', summary, draw)


def draw(plt, result):
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), layout='constrained')
    rows = [(name, entry['test'], 'C0') for name, entry in result['ours'].items()]
    rows += [(f'{name} (paper)', values, 'C1') for name, values in result['published_table_s2'].items()]
    names = [name for name, _, _ in rows]
    for axes, key, unit in ((left, 'energy_rmse_mev_per_atom', 'meV/atom'), (right, 'force_rmse_mev_per_a', 'meV/A')):
        axes.barh(names, [values[key] for _, values, _ in rows], color=[colour for _, _, colour in rows])
        axes.set_xlabel(f'test RMSE ({unit})')
        axes.invert_yaxis()
    right.set_yticks([])
    figure.suptitle(f'{result["dataset"]}: built-in SNAP (blue) and the paper (orange)')
    return figure


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', type=Path, default=Path(str(BASIC_W_DATASET)), help='labelled configurations')
    main(parser.parse_args().dataset)
