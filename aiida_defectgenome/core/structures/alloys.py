"""Chemical decorations of a crystal: random solid solutions of a given composition.

Geometry (any lattice, any defect of :mod:`.scenarios`) and chemistry are separate: build the structure
with one element, then give its atoms the composition.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

__all__ = ('random_solid_solution',)


def random_solid_solution(atoms: Atoms, composition: dict[str, float], seed: int = 0) -> Atoms:
    """Return a copy of ``atoms`` whose sites hold the elements of ``composition`` (``{element: fraction}``,
    fractions summing to 1) at random, in exact counts (largest remainders); positions and cell unchanged.

    :raises ValueError: for fractions that are not positive or do not sum to 1.
    """
    elements = sorted(composition)
    fractions = np.array([composition[e] for e in elements], dtype=float)
    if not elements or (fractions <= 0).any() or abs(fractions.sum() - 1.0) > 1e-6:
        raise ValueError(f'composition fractions must be positive and sum to 1, got {composition}')
    exact = fractions * len(atoms)
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: len(atoms) - counts.sum()]] += 1
    symbols = np.repeat(elements, counts)
    np.random.default_rng(seed).shuffle(symbols)
    decorated = atoms.copy()
    decorated.set_chemical_symbols(symbols.tolist())
    return decorated
