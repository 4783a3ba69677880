"""The D-optimal active set of a pool of descriptor rows, and the extrapolation grade against it.

Rows are standardised (centred, divided by their spread) before MaxVol; the mean and scale belong to the
active set so that candidates are transformed the same way. The grade of a row x is
``gamma = max_j |(z A^-1)_j|`` with ``z = (x - mean) / scale`` and ``A`` the ``(m, m)`` active rows
(Podryabinkin & Shapeev, Comput. Mater. Sci. 140, 171 (2017)): gamma <= 1 interpolates, > 1 extrapolates.

A rank-deficient pool (zero-variance columns, fewer distinct environments than m) is regularised: the
pool is extended by ``epsilon * I`` ("virtual rows"). MaxVol takes a virtual row only for a direction
the real rows do not span, and ``virtual_rows`` says how many it took; a candidate that moves along such
a direction by more than ``epsilon`` (in units of the pool's spread) then grades above 1.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .maxvol import maxvol

__all__ = ('ActiveSet', 'build_active_set', 'configuration_grades', 'load_active_set')

DEFAULT_TOL = 1.001
DEFAULT_EPSILON = 1.0e-6
BATCH_ROWS = 65536  # rows graded per matrix product: 65536 x m doubles, 29 MB at m = 55


@dataclasses.dataclass
class ActiveSet:
    """An active set in standardised coordinates.

    ``descriptor``: parameters of the descriptor; ``mean``, ``scale`` ``(m,)``; ``rows`` ``(m, m)``
    standardised active rows; ``inverse`` its inverse; ``sources`` ``(m,)`` pool row of each active row
    (-1 for a virtual row); ``tol`` the MaxVol tolerance; ``virtual_rows`` how many regularising rows it
    holds; ``pool_size`` rows it was chosen from; ``iterations``, ``max_pool_grade`` as MaxVol ended.
    """

    descriptor: dict
    mean: np.ndarray
    scale: np.ndarray
    rows: np.ndarray
    inverse: np.ndarray
    sources: np.ndarray
    tol: float = DEFAULT_TOL
    epsilon: float = DEFAULT_EPSILON
    virtual_rows: int = 0
    pool_size: int = 0
    iterations: int = 0
    max_pool_grade: float = 0.0

    @property
    def size(self) -> int:
        return len(self.mean)

    @property
    def regularised(self) -> bool:
        return self.virtual_rows > 0

    def standardise(self, rows: np.ndarray) -> np.ndarray:
        return (np.asarray(rows, dtype=float) - self.mean) / self.scale

    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        """``(W, b)`` with ``z A^-1 = x W - b``: the standardisation folded into one matrix product."""
        weights = self.inverse / self.scale[:, None]
        return weights, (self.mean / self.scale) @ self.inverse

    def grade(self, rows: np.ndarray, batch_rows: int = BATCH_ROWS) -> np.ndarray:
        """Return gamma ``(n,)`` of descriptor rows ``(n, m)``, ``batch_rows`` at a time."""
        rows = np.asarray(rows, dtype=float)
        if rows.ndim != 2 or rows.shape[1] != self.size:
            raise ValueError(f'expected descriptor rows of shape (n, {self.size}), got {rows.shape}')
        weights, offset = self._weights()
        result = np.empty(len(rows))
        buffer = np.empty((min(batch_rows, len(rows)), self.size))
        for start in range(0, len(rows), batch_rows):
            block = rows[start : start + batch_rows]
            product = np.matmul(block, weights, out=buffer[: len(block)])
            product -= offset
            np.abs(product, out=product)
            product.max(axis=1, out=result[start : start + len(block)])
        return result

    def grade_stream(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield gamma of each block of rows: memory stays bounded by the largest block."""
        for block in blocks:
            yield self.grade(block)

    def save(self, path) -> None:
        """Write the active set to ``path`` (``.npz``)."""
        np.savez(path, **_arrays(self), descriptor=np.array(json.dumps(self.descriptor)))


def _arrays(active_set: ActiveSet) -> dict:
    return {
        'mean': active_set.mean,
        'scale': active_set.scale,
        'rows': active_set.rows,
        'inverse': active_set.inverse,
        'sources': active_set.sources,
        'numbers': np.array(
            [
                active_set.tol,
                active_set.epsilon,
                active_set.virtual_rows,
                active_set.pool_size,
                active_set.iterations,
                active_set.max_pool_grade,
            ]
        ),
    }


def load_active_set(path) -> ActiveSet:
    """Read an active set written by :meth:`ActiveSet.save`."""
    with np.load(Path(path), allow_pickle=False) as data:
        tol, epsilon, virtual, pool, iterations, max_grade = data['numbers']
        return ActiveSet(
            descriptor=json.loads(str(data['descriptor'])),
            mean=data['mean'],
            scale=data['scale'],
            rows=data['rows'],
            inverse=data['inverse'],
            sources=data['sources'],
            tol=float(tol),
            epsilon=float(epsilon),
            virtual_rows=int(virtual),
            pool_size=int(pool),
            iterations=int(iterations),
            max_pool_grade=float(max_grade),
        )


def _standardisation(pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(mean, scale)``; a column with no spread (below 1e-8 of the pool's RMS) keeps that RMS
    as its scale, so round-off in the descriptor is not blown up."""
    mean = pool.mean(axis=0)
    spread = pool.std(axis=0)
    typical = float(np.sqrt(np.mean(pool**2))) or 1.0
    scale = np.where(spread > 1e-8 * typical, spread, typical)
    return mean, scale


def build_active_set(
    pool,
    descriptor: dict,
    tol: float = DEFAULT_TOL,
    max_iterations: int = 10000,
    epsilon: float = DEFAULT_EPSILON,
) -> ActiveSet:
    """Return the :class:`ActiveSet` of ``pool`` ``(N, m)`` descriptor rows (any N >= 1).

    :param descriptor: parameters of the descriptor that made the rows (kept with the set).
    :param tol: MaxVol tolerance (MLIP-3 and pacemaker use 1.001).
    :param epsilon: size of the regularising virtual rows, in units of the pool's spread.
    """
    pool = np.asarray(pool, dtype=float)
    if pool.ndim != 2 or len(pool) == 0:
        raise ValueError(f'expected a non-empty (N, m) pool of descriptor rows, got shape {pool.shape}')
    if not np.isfinite(pool).all():
        raise ValueError('the pool holds NaN or infinite descriptor values')
    count, size = pool.shape
    mean, scale = _standardisation(pool)
    extended = np.vstack([(pool - mean) / scale, epsilon * np.eye(size)])
    result = maxvol(extended, tol=tol, max_iterations=max_iterations)
    sources = np.where(result.rows < count, result.rows, -1)
    return ActiveSet(
        descriptor=dict(descriptor),
        mean=mean,
        scale=scale,
        rows=extended[result.rows],
        inverse=result.inverse,
        sources=sources,
        tol=tol,
        epsilon=epsilon,
        virtual_rows=int((sources < 0).sum()),
        pool_size=count,
        iterations=result.iterations,
        max_pool_grade=result.max_grade,
    )


def source_atoms(active_set: ActiveSet, counts: np.ndarray) -> list:
    """Return ``[configuration index, atom index]`` of each active row (``None``: a virtual row) of an active
    set built from the rows of configurations of ``counts`` ``(n_configurations,)`` atoms, in order."""
    counts = np.asarray(counts, dtype=int)
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return [[int(owner[r]), int(r - first[owner[r]])] if r >= 0 else None for r in active_set.sources.tolist()]


def configuration_grades(gamma: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return the per-configuration maximum of per-atom ``gamma`` ``(sum(counts),)`` -> ``(len(counts),)``."""
    counts = np.asarray(counts, dtype=int)
    if (counts <= 0).any():
        raise ValueError('every configuration needs at least one atom')
    if counts.sum() != len(gamma):
        raise ValueError(f'{len(gamma)} grades for {counts.sum()} atoms')
    return np.maximum.reduceat(gamma, np.concatenate([[0], np.cumsum(counts)[:-1]]))
