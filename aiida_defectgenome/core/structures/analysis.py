"""Local crystal structure of each atom: adaptive common neighbour analysis (a-CNA).

Stukowski, Modelling Simul. Mater. Sci. Eng. 20, 045021 (2012): each atom gets its own cutoff from
its 12 (fcc, hcp) or 14 (bcc) nearest neighbours, and the pattern of common neighbours and the bonds
between them decides the structure: fcc 12 x (4,2,1); hcp 6 x (4,2,1) + 6 x (4,2,2); bcc 8 x (6,6,6) +
6 x (4,4,4). Everything else is ``'other'``. No cutoff to choose, so it works for any element.
"""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree

__all__ = ('STRUCTURES', 'adaptive_cna', 'structure_fractions')

STRUCTURES = ('fcc', 'hcp', 'bcc', 'other')
_HALF_ONE_PLUS_ROOT2 = (1 + np.sqrt(2)) / 2


def _neighbour_vectors(atoms: Atoms, count: int = 15) -> np.ndarray:
    """Return ``(n, count, 3)`` vectors to each atom's nearest neighbours, shortest first (periodic
    images included where the cell is periodic)."""
    positions = atoms.positions
    periodic = [k for k in range(3) if atoms.pbc[k]]
    reach = [1 if k in periodic else 0 for k in range(3)]
    shifts = np.array(list(itertools.product(*[range(-r, r + 1) for r in reach]))) @ atoms.cell[:]
    images = (positions[None] + shifts[:, None]).reshape(-1, 3)
    k = min(count + 1, len(images))
    _, index = cKDTree(images).query(positions, k=k)
    vectors = images[index[:, 1:]] - positions[:, None, :]
    if vectors.shape[1] < count:
        raise ValueError(f'{len(atoms)} atoms: too few to find {count} neighbours of each')
    return vectors


def _signature(vectors: np.ndarray, cutoff: float) -> list[tuple[int, int, int]]:
    """Return the CNA triplet (common neighbours, bonds among them, longest chain) of each bond."""
    bonded = np.linalg.norm(vectors[:, None] - vectors[None], axis=2) < cutoff
    np.fill_diagonal(bonded, False)
    triplets = []
    for j in range(len(vectors)):
        common = np.flatnonzero(bonded[j])
        edges = [(a, b) for a, b in itertools.combinations(common, 2) if bonded[a, b]]
        triplets.append((len(common), len(edges), _longest_chain(edges)))
    return triplets


def _longest_chain(edges: list[tuple[int, int]]) -> int:
    """Number of bonds in the largest connected cluster of ``edges``."""
    remaining = list(edges)
    longest = 0
    while remaining:
        cluster = [remaining.pop()]
        nodes = set(cluster[0])
        grew = True
        while grew:
            grew = False
            for edge in list(remaining):
                if nodes & set(edge):
                    remaining.remove(edge)
                    cluster.append(edge)
                    nodes |= set(edge)
                    grew = True
        longest = max(longest, len(cluster))
    return longest


def adaptive_cna(atoms: Atoms, indices=None) -> np.ndarray:
    """Return the structure (one of :data:`STRUCTURES`) of atoms ``indices`` (default all), ``(k,)``."""
    vectors = _neighbour_vectors(atoms)
    indices = range(len(atoms)) if indices is None else indices
    labels = []
    for i in indices:
        lengths = np.linalg.norm(vectors[i], axis=1)
        labels.append(_classify(vectors[i], lengths))
    return np.array(labels, dtype=object)


def _classify(vectors: np.ndarray, lengths: np.ndarray) -> str:
    cutoff12 = _HALF_ONE_PLUS_ROOT2 * lengths[:12].mean()
    if np.all(lengths[:12] < cutoff12) and lengths[12] >= cutoff12:
        counts = _count(_signature(vectors[:12], cutoff12))
        if counts.get((4, 2, 1)) == 12:
            return 'fcc'
        if counts.get((4, 2, 1)) == 6 and counts.get((4, 2, 2)) == 6:
            return 'hcp'
    cutoff14 = _HALF_ONE_PLUS_ROOT2 * (2 / np.sqrt(3) * lengths[:8].mean() + lengths[8:14].mean()) / 2
    if np.all(lengths[:14] < cutoff14) and lengths[14] >= cutoff14:
        counts = _count(_signature(vectors[:14], cutoff14))
        if counts.get((6, 6, 6)) == 8 and counts.get((4, 4, 4)) == 6:
            return 'bcc'
    return 'other'


def _count(triplets) -> dict:
    counts: dict = {}
    for triplet in triplets:
        counts[triplet] = counts.get(triplet, 0) + 1
    return counts


def structure_fractions(labels) -> dict[str, float]:
    """Return the fraction of each of :data:`STRUCTURES` among ``labels`` (empty: all zero)."""
    labels = list(labels)
    return {name: (labels.count(name) / len(labels) if labels else 0.0) for name in STRUCTURES}
