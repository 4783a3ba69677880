"""MaxVol: the m rows of a tall ``(N, m)`` matrix whose square submatrix has (locally) maximal |det|.

Goreinov, Oseledets, Savostyanov, Tyrtyshnikov, Zamarashkin, "How to find a good submatrix" (2010): start
from a rank-revealing choice (column-pivoted QR of the transpose), then swap in the row i and out the
active row j of the largest ``|C_ij|``, ``C = X A^-1``, with a rank-1 update of ``C``, until
``max |C| <= tol``. Each swap multiplies |det A| by ``|C_ij| > tol``, so |det| only grows.
This is the algorithm behind the D-optimality grade of MLIP-3 and pacemaker (Podryabinkin & Shapeev 2017).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg

__all__ = ('MaxvolResult', 'maxvol', 'swap_in')

REFRESH_EVERY = 64  # swaps between exact recomputations of C, against round-off in the rank-1 updates


@dataclasses.dataclass
class MaxvolResult:
    """``rows`` ``(m,)`` indices into the pool (active row j is pool row ``rows[j]``); ``inverse`` ``(m, m)``
    is ``A^-1``; ``max_grade`` the final ``max |C|``; ``log_det`` ``ln|det A|`` after each swap (start first)."""

    rows: np.ndarray
    inverse: np.ndarray
    iterations: int
    max_grade: float
    converged: bool
    log_det: list[float]


def _log_abs_det(matrix: np.ndarray) -> float:
    return float(np.linalg.slogdet(matrix)[1])


def pivoted_start(pool: np.ndarray) -> np.ndarray:
    """Return ``(m,)`` pool row indices chosen by column-pivoted QR of ``pool.T`` (rank-revealing)."""
    _, _, pivots = scipy.linalg.qr(pool.T, mode='economic', pivoting=True)
    return np.asarray(pivots[: pool.shape[1]], dtype=int)


def swap_in(grades: np.ndarray, inverse: np.ndarray, i: int, j: int) -> None:
    """Update ``grades`` (``X A^-1``, rows of the pool) and ``inverse`` in place for pool row i replacing
    active row j (Sherman-Morrison; ``grades[i, j]`` must be non-zero)."""
    pivot = grades[i, j]
    change = grades[i].copy()
    change[j] -= 1.0
    change /= pivot
    column = grades[:, j].copy()
    grades -= np.outer(column, change)
    inverse_column = inverse[:, j].copy()
    inverse -= np.outer(inverse_column, change)


def maxvol(pool: np.ndarray, tol: float = 1.001, max_iterations: int = 10000, start=None) -> MaxvolResult:
    """Return the :class:`MaxvolResult` of ``pool`` ``(N, m)``, ``N >= m``, of full column rank.

    :param tol: stop when every ``|C_ij| <= tol`` (> 1).
    :param start: ``(m,)`` starting rows; pivoted QR when ``None``.
    :raises ValueError: on a pool with fewer rows than columns or a singular start.
    """
    pool = np.asarray(pool, dtype=float)
    count, size = pool.shape
    if count < size:
        raise ValueError(f'MaxVol needs at least as many rows as columns, got {count} x {size}')
    if not tol > 1.0:
        raise ValueError(f'tol must be larger than 1, got {tol!r}')
    rows = pivoted_start(pool) if start is None else np.array(start, dtype=int)
    active = pool[rows]
    if np.linalg.matrix_rank(active) < size:
        raise ValueError('the starting rows are linearly dependent: the pool is rank-deficient')
    inverse = np.linalg.inv(active)
    grades = pool @ inverse
    log_det = [_log_abs_det(active)]
    iterations = 0
    while True:
        i, j = divmod(int(np.argmax(np.abs(grades))), size)
        largest = abs(grades[i, j])
        if largest > tol and iterations < max_iterations:
            swap_in(grades, inverse, i, j)
            rows[j] = i
            iterations += 1
            log_det.append(log_det[-1] + float(np.log(largest)))
            if iterations % REFRESH_EVERY:
                continue
        inverse = np.linalg.inv(pool[rows])  # exact numbers, against round-off in the rank-1 updates
        grades = pool @ inverse
        if largest <= tol and np.abs(grades).max() <= tol or iterations >= max_iterations:
            break
    final = float(np.abs(grades).max())
    return MaxvolResult(rows, inverse, iterations, final, final <= tol, log_det)
