"""Train SNAP models on labelled configurations: design rows once, then fits, metrics and ensembles.

A training set is split by configuration into train and test (``test_fraction``, ``seed``); the model is
fitted on train and scored on both, overall and per dataset group. An ensemble adds ``members`` models,
each fitted on a bootstrap resample of the training configurations (drawn with ``seed + k``); the
per-atom force spread of the ensemble is :func:`force_spread`.

Labels from more than one source (``sources``: e.g. the VASP basic set and GPAW cells) are fitted
together with one energy shift per atom of each element for every source but the first
(``TrainingResult.offsets``, eV/atom): codes and setups put energies on different scales, not forces.
The model itself predicts on the scale of the first source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from ase import Atoms

from ..structures.datasets import Labels
from .snap_basis import SnapBasis, SnapRows
from .snap_fit import FitWeights, NormalEquations, errors, split_configurations
from .snap_model import SnapModel

__all__ = ('TrainingData', 'TrainingResult', 'force_spread', 'learning_curve', 'train_snap')


@dataclasses.dataclass
class TrainingData:
    """Labelled configurations, the dataset group of each, and their design rows for ``basis``."""

    basis: SnapBasis
    atoms: list[Atoms]
    labels: list[Labels]
    groups: list[str]
    rows: list[SnapRows]
    sources: list[str]

    @classmethod
    def build(
        cls,
        basis: SnapBasis,
        configurations: Sequence[tuple[Atoms, Labels]],
        groups: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
    ):
        """Compute the design rows of every configuration (the slow step: LAMMPS ``compute snap``).

        :param sources: where each configuration's labels come from (default: one source for all).
        """
        atoms = [a for a, _ in configurations]
        labels = [label for _, label in configurations]
        groups = list(groups) if groups is not None else ['all'] * len(atoms)
        sources = list(sources) if sources is not None else ['labels'] * len(atoms)
        if not len(groups) == len(sources) == len(atoms):
            raise ValueError(f'{len(groups)} group names and {len(sources)} sources for {len(atoms)} configurations')
        unknown = sorted({s for a in atoms for s in a.get_chemical_symbols()} - set(basis.species))
        if unknown:
            raise ValueError(f'the configurations hold {", ".join(unknown)}, not among the species {list(basis.species)}')
        return cls(basis, atoms, labels, groups, basis.rows_many(atoms), sources)

    @property
    def offset_keys(self) -> list[tuple[str, str]]:
        """``(source, element)`` of each energy-offset column: every source but the first, every element."""
        others = [source for source in dict.fromkeys(self.sources) if source != self.sources[0]]
        return [(source, element) for source in others for element in self.basis.species]

    def offset_row(self, index: int) -> np.ndarray:
        """Atoms of each element of configuration ``index`` in the offset columns of its source."""
        symbols = self.atoms[index].get_chemical_symbols()
        source = self.sources[index]
        return np.array([symbols.count(element) if key == source else 0 for key, element in self.offset_keys], dtype=float)

    def normal_equations(self, indices: Sequence[int], weights: Sequence[float]) -> NormalEquations:
        """Accumulate the configurations ``indices``, each with its weight (repeats allowed)."""
        equations = NormalEquations(self.basis.columns, len(self.offset_keys))
        for index, weight in zip(indices, weights):
            atoms = self.atoms[index]
            volume = atoms.get_volume() if atoms.pbc.all() else None
            equations.add(self.rows[index], self.labels[index], len(atoms), volume, weight, self.offset_row(index))
        return equations


@dataclasses.dataclass
class TrainingResult:
    """A fitted model, its metrics (``{'train': {...}, 'test': {...}}``, each with a ``groups`` entry),
    the split, the ensemble members, the predictions ``{'train'|'test': [(energy, forces), ...]}`` (on
    each configuration's own scale), and the energy offsets ``{'<source> <element>': eV/atom}``."""

    model: SnapModel
    metrics: dict
    train: np.ndarray
    test: np.ndarray
    members: list[SnapModel]
    predictions: dict
    offsets: dict


def _fit(data: TrainingData, indices, counts, fit_weights: FitWeights, group_weights: Mapping[str, float]):
    """Return the model and its energy offsets ``(offset columns,)``."""
    weights = [np.sqrt(count) * group_weights.get(data.groups[i], 1.0) for i, count in zip(indices, counts)]
    solution = data.normal_equations(indices, weights).solve(fit_weights)
    return SnapModel(data.basis, solution[: data.basis.columns]), solution[data.basis.columns :]


def _scores(model: SnapModel, offsets: np.ndarray, data: TrainingData, indices: np.ndarray) -> tuple[dict, list]:
    predicted = []
    for i in indices:
        energy, forces, _ = model.predict_rows(data.rows[i])
        predicted.append((energy + float(data.offset_row(i) @ offsets), forces))
    scores = errors(predicted, [data.labels[i] for i in indices])
    scores['groups'] = {}
    for group in sorted({data.groups[i] for i in indices}):
        members = [k for k, i in enumerate(indices) if data.groups[i] == group]
        scores['groups'][group] = errors([predicted[k] for k in members], [data.labels[indices[k]] for k in members])
    return scores, predicted


def train_snap(
    data: TrainingData,
    fit_weights: FitWeights,
    test_fraction: float = 0.1,
    seed: int = 0,
    group_weights: Mapping[str, float] | None = None,
    members: int = 0,
    split: tuple[Sequence[int], Sequence[int]] | None = None,
) -> TrainingResult:
    """Split, fit on train, score on train and test; fit ``members`` bootstrap models when asked.

    :param split: ``(train, test)`` configuration indices chosen by the caller (benchmarks that hold out whole
        kinds of configuration) instead of a random ``test_fraction`` drawn with ``seed``.
    :raises ValueError: on a weight for a group that is not in the data, an empty training split, or a
        ``split`` that overlaps or leaves the data.
    """
    group_weights = dict(group_weights or {})
    unknown = sorted(set(group_weights) - set(data.groups))
    if unknown:
        raise ValueError(f'weights given for groups not in the training data: {", ".join(unknown)}')
    train, test = split_configurations(len(data.atoms), test_fraction, seed) if split is None else _checked(split, len(data.atoms))
    if len(train) == 0:
        raise ValueError('no configuration left to train on')
    model, offsets = _fit(data, train, np.ones(len(train)), fit_weights, group_weights)
    metrics, predictions = {}, {}
    for name, indices in (('train', train), ('test', test)):
        metrics[name], predictions[name] = _scores(model, offsets, data, indices)
    ensemble = []
    for k in range(members):
        draw = np.random.default_rng(seed + 1 + k).integers(len(train), size=len(train))
        counts = np.bincount(draw, minlength=len(train))
        chosen = counts > 0
        ensemble.append(_fit(data, train[chosen], counts[chosen], fit_weights, group_weights)[0])
    named = {f'{source} {element}': float(value) for (source, element), value in zip(data.offset_keys, offsets)}
    return TrainingResult(model, metrics, train, test, ensemble, predictions, named)


def _checked(split, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return a caller's ``(train, test)`` as sorted index arrays, checked against ``count`` configurations."""
    train, test = (np.unique(np.asarray(part, dtype=int)) for part in split)
    every = np.concatenate([train, test])
    if every.size and (every.min() < 0 or every.max() >= count):
        raise ValueError(f'split indices must lie in [0, {count})')
    if np.intersect1d(train, test).size:
        raise ValueError('the training and test configurations overlap')
    return train, test


def learning_curve(
    data: TrainingData, result: TrainingResult, fit_weights: FitWeights, fractions, group_weights=None
) -> list[dict]:
    """Refit on growing random shares of ``result.train`` and score each fit on ``result.test``.

    :returns: one entry per fraction: ``fraction``, ``training_configurations``, and the test scores of
        :func:`..snap_fit.errors` (no groups). The whole training split is ``result.model`` itself, not fitted again.
    """
    order = np.random.default_rng(0).permutation(result.train)
    curve = []
    for fraction in sorted(fractions):
        if not 0 < fraction <= 1:
            raise ValueError(f'learning-curve fractions must lie in (0, 1], got {fraction!r}')
        subset = np.sort(order[: max(1, int(round(fraction * len(order))))])
        if len(subset) == len(result.train):
            model, offsets = result.model, np.array(list(result.offsets.values()))
        else:
            model, offsets = _fit(data, subset, np.ones(len(subset)), fit_weights, dict(group_weights or {}))
        scores, _ = _scores(model, offsets, data, result.test)
        scores.pop('groups')
        curve.append({'fraction': fraction, 'training_configurations': len(subset), **scores})
    return curve


def force_spread(forces: Sequence[np.ndarray]) -> np.ndarray:
    """Per-atom ensemble force spread ``sigma_F = sqrt(sum over x, y, z of std_k(F)^2)`` (eV/A), ``(n,)``.

    :param forces: one ``(n, 3)`` array per model (at least two).
    """
    stack = np.asarray(forces, dtype=float)
    if stack.ndim != 3 or stack.shape[0] < 2 or stack.shape[2] != 3:
        raise ValueError(f'give (n, 3) forces of at least two models, got an array of shape {stack.shape}')
    return np.sqrt(np.sum(np.std(stack, axis=0) ** 2, axis=1))
