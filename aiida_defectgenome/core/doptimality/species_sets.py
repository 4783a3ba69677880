"""One active set per chemical species, as MLIP-3 grades per atom type: an atom is graded against the
active set of its own element only, so a Ni environment never counts as covered by Cu ones.

With a chemically weighted descriptor (``SnapDescriptor(element_weights=...)``) the rows also see the
neighbours' elements; together the two make the extrapolation grade of an alloy chemistry-aware.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from .active_set import DEFAULT_TOL, ActiveSet, build_active_set

__all__ = ('SpeciesActiveSets', 'build_species_active_sets')


@dataclasses.dataclass
class SpeciesActiveSets:
    """``sets``: element -> :class:`ActiveSet` (all of one descriptor)."""

    sets: dict[str, ActiveSet]

    def grade(self, rows: np.ndarray, symbols: Sequence[str]) -> np.ndarray:
        """Return gamma ``(n,)`` of rows ``(n, m)``, each against its element's set (``symbols`` ``(n,)``).

        :raises ValueError: for an element that has no active set (nothing of it was in the pool).
        """
        rows, symbols = np.asarray(rows), np.asarray(symbols)
        if len(symbols) != len(rows):
            raise ValueError(f'{len(symbols)} symbols for {len(rows)} rows')
        unknown = sorted(set(symbols.tolist()) - set(self.sets))
        if unknown:
            raise ValueError(f'no active set for {", ".join(unknown)}: the pool held only {", ".join(sorted(self.sets))}')
        gamma = np.empty(len(rows))
        for element, active in self.sets.items():
            mine = symbols == element
            if mine.any():
                gamma[mine] = active.grade(rows[mine])
        return gamma


def build_species_active_sets(rows, symbols: Sequence[str], descriptor: dict, tol: float = DEFAULT_TOL) -> SpeciesActiveSets:
    """Return the active set of each element's rows of the pool ``rows`` ``(N, m)``, ``symbols`` ``(N,)``."""
    rows, symbols = np.asarray(rows), np.asarray(symbols)
    if len(symbols) != len(rows):
        raise ValueError(f'{len(symbols)} symbols for {len(rows)} rows')
    elements = sorted(set(symbols.tolist()))
    return SpeciesActiveSets({e: build_active_set(rows[symbols == e], descriptor, tol=tol) for e in elements})
