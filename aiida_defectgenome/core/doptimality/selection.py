"""Batch selection of extrapolative environments (the equivalent of MLIP-3's ``mlp select_add``).

Candidates with gamma >= ``threshold`` are preselected; identical descriptor rows are merged; MaxVol then
runs over the active set plus the preselected rows, and only candidate rows may swap in. The candidates
that sit in the active set at the end are the selection: the non-redundant subset that enlarges its
volume most. ``limit`` caps their number: once reached, a new candidate may only replace a selected one.
Every selected row is one central atom; :func:`merge_nearby_centres` then merges centres of the same
snapshot that are closer than a distance, since one cluster cut around either holds both environments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..structures.geometry import minimum_image
from .active_set import ActiveSet
from .maxvol import REFRESH_EVERY, swap_in

__all__ = ('Selection', 'merge_nearby_centres', 'select_by_grade', 'select_extrapolative')

DEFAULT_THRESHOLD = 2.0


@dataclasses.dataclass
class Selection:
    """``indices``: selected candidate rows, by decreasing ``gamma``, their grade against the original
    active set; ``preselected``: rows with gamma >= threshold; ``duplicates``: preselected
    rows dropped as identical to another; ``active_set``: the set enlarged by the selection (its
    ``sources`` are -2 for the rows the selection added)."""

    indices: np.ndarray
    gamma: np.ndarray
    preselected: int
    duplicates: int
    swaps: int
    active_set: ActiveSet


def select_extrapolative(
    active_set: ActiveSet,
    candidates: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    limit: int | None = None,
    max_iterations: int = 100000,
    gamma: np.ndarray | None = None,
) -> Selection:
    """Return the :class:`Selection` among descriptor rows ``candidates`` ``(n, m)``.

    :param threshold: preselect rows with gamma >= threshold (the paper uses 2.0).
    :param limit: at most this many rows are selected (``None``: no cap).
    :param gamma: the candidates' grades against ``active_set``, when already computed.
    """
    if limit is not None and limit < 1:
        raise ValueError(f'limit must be at least 1, got {limit!r}')
    gamma = active_set.grade(candidates) if gamma is None else np.asarray(gamma)
    preselected = np.flatnonzero(gamma >= threshold)
    standardised = active_set.standardise(np.asarray(candidates)[preselected])
    _, first = np.unique(standardised, axis=0, return_index=True)
    first.sort()
    pool = preselected[first]
    grades = standardised[first] @ active_set.inverse
    inverse = active_set.inverse.copy()
    rows = active_set.rows.copy()
    owner = np.full(active_set.size, -1)  # candidate pool index occupying each active row, -1: original
    swaps = 0
    while len(pool) and swaps < max_iterations:
        allowed = np.abs(grades)
        if limit is not None and (owner >= 0).sum() >= limit:
            allowed = allowed * (owner >= 0)
        i, j = divmod(int(np.argmax(allowed)), active_set.size)
        if allowed[i, j] <= active_set.tol:
            break
        rows[j] = standardised[first[i]]
        swap_in(grades, inverse, i, j)
        owner[j] = i
        swaps += 1
        if swaps % REFRESH_EVERY == 0:
            inverse = np.linalg.inv(rows)
            grades = standardised[first] @ inverse
    chosen = [j for j in np.argsort(owner, kind='stable') if owner[j] >= 0]
    indices = pool[owner[chosen]]
    order = np.argsort(-gamma[indices], kind='stable')
    enlarged = dataclasses.replace(
        active_set,
        rows=rows,
        inverse=np.linalg.inv(rows),
        sources=np.where(owner >= 0, -2, active_set.sources),
    )
    return Selection(
        indices=indices[order],
        gamma=gamma[indices][order],
        preselected=len(preselected),
        duplicates=len(preselected) - len(first),
        swaps=swaps,
        active_set=enlarged,
    )


def merge_nearby_centres(
    positions: np.ndarray, cell: np.ndarray, pbc, centres: np.ndarray, gamma: np.ndarray, distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Merge centres of one snapshot that lie closer than ``distance`` (A, minimum image).

    Centres are taken by decreasing gamma; one within ``distance`` of a kept centre merges into it.
    :returns: ``(kept, merged_into)``: kept atom indices, and for every input centre the kept centre it
        belongs to (itself when kept).
    """
    centres = np.asarray(centres, dtype=int)
    order = np.argsort(-np.asarray(gamma), kind='stable')
    kept: list[int] = []
    merged_into = np.empty(len(centres), dtype=int)
    for k in order:
        centre = centres[k]
        if kept:
            vectors = minimum_image(positions[kept] - positions[centre], cell, pbc)
            near = np.flatnonzero(np.linalg.norm(vectors, axis=1) < distance)
            if len(near):
                merged_into[k] = kept[near[0]]
                continue
        kept.append(int(centre))
        merged_into[k] = centre
    return np.array(kept, dtype=int), merged_into


def select_by_grade(
    frames: Sequence, grades: Sequence[np.ndarray], threshold: float, distance: float, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Choose centres by grade alone, for grades without descriptor rows (an MTP's, from ``mlp``).

    Atoms of ``frames`` (ASE, snapshots of one run) with grade >= ``threshold`` are taken by decreasing
    grade; one closer than ``distance`` (A, minimum image in its own frame) to the position of a kept centre
    of any frame is the same environment seen again and is dropped; at most ``limit`` are kept.
    :returns: ``(frame, atom, grade, preselected, repeats)``: kept centres ``(k,)`` by decreasing grade, how
        many atoms reached the threshold and how many were dropped as near a kept centre.
    """
    owners = np.concatenate([np.full(len(g), k) for k, g in enumerate(grades)]) if len(grades) else np.zeros(0, int)
    atoms = np.concatenate([np.arange(len(g)) for g in grades]) if len(grades) else np.zeros(0, int)
    values = np.concatenate(grades) if len(grades) else np.zeros(0)
    candidates = np.flatnonzero(values >= threshold)
    candidates = candidates[np.argsort(-values[candidates], kind='stable')]
    kept: list[int] = []
    places, repeats = np.zeros((0, 3)), 0
    for index in candidates:
        if limit is not None and len(kept) >= limit:
            break
        frame = frames[owners[index]]
        position = frame.positions[atoms[index]]
        if len(kept):
            vectors = minimum_image(places - position, frame.cell[:], frame.pbc)
            if (np.linalg.norm(vectors, axis=1) < distance).any():
                repeats += 1
                continue
        kept.append(int(index))
        places = np.vstack([places, position])
    kept = np.array(kept, dtype=int)
    return owners[kept].astype(int), atoms[kept].astype(int), values[kept], len(candidates), repeats
