"""Fit SNAP coefficients by weighted ridge least squares on energies, forces and stresses.

Residuals enter as energy per atom (eV/atom), force components (eV/A) and virial per atom
(stress x volume / atoms, eV/atom), each times its weight and the configuration's own weight. The
normal equations are kept per kind (:class:`NormalEquations`), so the weights and the ridge can change
without recomputing a descriptor. The ridge is relative: it adds ``ridge x |A_j|^2`` to the diagonal,
so it does not depend on the scale of a column (quadratic columns are orders of magnitude larger).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import scipy.linalg

from ..structures.datasets import Labels
from .snap_basis import SnapRows

__all__ = ('FitWeights', 'NormalEquations', 'errors', 'parity_arrays', 'split_configurations')

KINDS = ('energy', 'force', 'stress')


@dataclasses.dataclass(frozen=True)
class FitWeights:
    """Weights of the three residual kinds, and the relative ridge (see module docstring)."""

    energy: float = 1.0
    force: float = 0.1
    stress: float = 0.0
    ridge: float = 1.0e-10

    def __post_init__(self):
        for name in ('energy', 'force', 'stress', 'ridge'):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f'the {name} weight must be a finite number >= 0, got {value!r}')
        if self.energy == self.force == self.stress == 0:
            raise ValueError('at least one of the energy, force and stress weights must be positive')


def _target_blocks(rows: SnapRows, labels: Labels, natoms: int, volume: float | None):
    """Return ``{kind: (design block, target vector)}`` in the residual units of the module docstring."""
    blocks = {
        'energy': (rows.energy[None, :] / natoms, np.array([labels.energy / natoms])),
        'force': (rows.forces, labels.forces.ravel()),
    }
    if labels.stress is not None and volume:
        per_atom = volume / natoms
        voigt = labels.stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
        blocks['stress'] = (rows.stress * per_atom, voigt * per_atom)
    return blocks


class NormalEquations:
    """``A^T A`` and ``A^T b`` per residual kind, accumulated one configuration at a time.

    ``offsets`` extra columns, after the model's, enter the energy residuals only: energy shifts per atom
    between label sources (two DFT codes or setups give energies on different scales, forces alike).
    """

    def __init__(self, columns: int, offsets: int = 0):
        self.gram = {kind: np.zeros((columns + offsets, columns + offsets)) for kind in KINDS}
        self.moment = {kind: np.zeros(columns + offsets) for kind in KINDS}

    def add(self, rows: SnapRows, labels: Labels, natoms: int, volume: float | None, weight: float = 1.0, offset=None) -> None:
        """Add one configuration (``volume`` in A^3, ``None`` if not 3D periodic) with its own ``weight``;
        ``offset`` ``(offsets,)``: its atoms counted into the offset columns that apply to it."""
        for kind, (design, target) in _target_blocks(rows, labels, natoms, volume).items():
            if kind == 'energy' and offset is not None and len(offset):
                design = np.concatenate([design, np.asarray(offset, dtype=float)[None, :] / natoms], axis=1)
            n = design.shape[1]
            self.gram[kind][:n, :n] += weight**2 * (design.T @ design)
            self.moment[kind][:n] += weight**2 * (design.T @ target)

    def solve(self, weights: FitWeights) -> np.ndarray:
        """Return the coefficients ``(columns,)`` minimising the weighted residuals plus the ridge."""
        factors = {'energy': weights.energy, 'force': weights.force, 'stress': weights.stress}
        gram = sum(factors[kind] ** 2 * self.gram[kind] for kind in KINDS)
        moment = sum(factors[kind] ** 2 * self.moment[kind] for kind in KINDS)
        norms = np.sqrt(np.diag(gram))
        if not np.any(norms > 0):
            raise ValueError('no training data with a positive weight: nothing to fit')
        scale = np.where(norms > 0, norms, 1.0)
        scaled = gram / np.outer(scale, scale)
        scaled[np.diag_indices_from(scaled)] += max(weights.ridge, 1e-14)
        solution = scipy.linalg.solve(scaled, moment / scale, assume_a='pos')
        return solution / scale


def split_configurations(count: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted ``(train, test)`` configuration indices, ``test_fraction`` of them (at least one if
    ``count > 1``) drawn at random with ``seed``."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f'the test fraction must lie in [0, 1), got {test_fraction!r}')
    order = np.random.default_rng(seed).permutation(count)
    tests = int(round(test_fraction * count))
    if test_fraction > 0 and count > 1:
        tests = max(tests, 1)
    return np.sort(order[tests:]), np.sort(order[:tests])


def errors(predicted: Sequence[tuple[float, np.ndarray]], reference: Sequence[Labels]) -> dict:
    """Return RMSE and MAE of energies (meV/atom) and force components (meV/A) over configurations.

    :param predicted: ``(energy eV, forces (n, 3) eV/A)`` per configuration, in the order of ``reference``.
    """
    if not reference:
        return {'configurations': 0}
    energy = np.array([(e - ref.energy) / len(ref.forces) for (e, _), ref in zip(predicted, reference)])
    force = np.concatenate([(f - ref.forces).ravel() for (_, f), ref in zip(predicted, reference)])
    return {
        'configurations': len(reference),
        'atoms': int(sum(len(ref.forces) for ref in reference)),
        'energy_rmse_mev_per_atom': float(1e3 * np.sqrt(np.mean(energy**2))),
        'energy_mae_mev_per_atom': float(1e3 * np.mean(np.abs(energy))),
        'force_rmse_mev_per_a': float(1e3 * np.sqrt(np.mean(force**2))),
        'force_mae_mev_per_a': float(1e3 * np.mean(np.abs(force))),
    }


def parity_arrays(predicted: Sequence[tuple[float, np.ndarray]], reference: Sequence[Labels]):
    """Return the four arrays of a parity plot (:func:`..plots.plot_parity`): reference and predicted energies
    per atom (eV/atom), reference and predicted force components (eV/A); inputs as in :func:`errors`."""
    natoms = np.array([len(ref.forces) for ref in reference])
    if not len(natoms):
        return np.empty(0), np.empty(0), np.empty(0), np.empty(0)
    return (
        np.array([ref.energy for ref in reference]) / natoms,
        np.array([energy for energy, _ in predicted]) / natoms,
        np.concatenate([ref.forces.ravel() for ref in reference]),
        np.concatenate([np.asarray(forces).ravel() for _, forces in predicted]),
    )
