"""Screen structures against an active set: per-atom gamma, then the selected neighbourhoods as clusters.

This is step 1 of the method end to end on plain ASE structures: descriptors of every atom, gamma against
the active set, preselection and MaxVol selection over all candidates at once, merging of centres closer
than ``merge_distance`` in the same snapshot, and one cut cluster per remaining centre.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from ase import Atoms

from .active_set import ActiveSet, build_active_set, configuration_grades
from .clusters import DEFAULT_RADIUS, cut_neighbourhood
from .descriptors import Descriptor, descriptor_from_parameters
from .selection import DEFAULT_THRESHOLD, merge_nearby_centres, select_extrapolative

__all__ = (
    'SELECTION_DEFAULTS',
    'Centres',
    'Grades',
    'Neighbourhoods',
    'active_set_of',
    'choose_centres',
    'cut_around_centres',
    'default_merge_distance',
    'grade_structures',
    'select_neighbourhoods',
    'validate_selection_parameters',
)


@dataclasses.dataclass
class Grades:
    """``gamma`` per atom ``(sum(counts),)``, ``counts`` atoms per structure, ``maxima`` per structure."""

    gamma: np.ndarray
    counts: np.ndarray
    maxima: np.ndarray

    def per_structure(self) -> list[np.ndarray]:
        return np.split(self.gamma, np.cumsum(self.counts)[:-1])

    def fraction_above(self, value: float) -> float:
        return float((self.gamma > value).mean()) if len(self.gamma) else 0.0


@dataclasses.dataclass
class Centres:
    """Selected central atoms: ``structure`` and ``atom`` indices ``(k,)``, their ``gamma`` against the
    original active set (decreasing), and the selection's counts."""

    structure: np.ndarray
    atom: np.ndarray
    gamma: np.ndarray
    preselected: int
    duplicates: int

    def as_dict(self) -> dict:
        return {
            'structure': self.structure.tolist(),
            'atom': self.atom.tolist(),
            'gamma': self.gamma.tolist(),
            'preselected': self.preselected,
            'duplicates': self.duplicates,
        }


@dataclasses.dataclass
class Neighbourhoods:
    """Clusters cut around selected centres, with the bookkeeping of the selection.

    Each cluster's ``info`` holds ``source_structure`` (index into the screened structures),
    ``source_centre`` (atom index), ``gamma`` and ``merged`` (other selected centres it holds).
    """

    clusters: list[Atoms]
    grades: Grades
    preselected: int
    selected: int
    duplicates: int
    merged: int


def active_set_of(structures: Sequence[Atoms], descriptor: Descriptor, **options) -> ActiveSet:
    """Return the active set of all atoms of ``structures``; ``options`` go to :func:`build_active_set`."""
    rows, _ = descriptor.compute_many(structures)
    return build_active_set(rows, descriptor.parameters, **options)


def _descriptor_rows(active_set: ActiveSet, structures: Sequence[Atoms]) -> tuple[np.ndarray, np.ndarray]:
    if not len(structures):
        raise ValueError('no structures to screen')
    if any(len(atoms) == 0 for atoms in structures):
        raise ValueError('a structure to screen has no atoms')
    return descriptor_from_parameters(active_set.descriptor).compute_many(structures)


def _grades(active_set: ActiveSet, rows: np.ndarray, counts: np.ndarray) -> Grades:
    gamma = active_set.grade(rows)
    return Grades(gamma, counts, configuration_grades(gamma, counts))


def grade_structures(active_set: ActiveSet, structures: Sequence[Atoms]) -> Grades:
    """Return the :class:`Grades` of every atom of ``structures`` with the active set's own descriptor."""
    return _grades(active_set, *_descriptor_rows(active_set, structures))


def choose_centres(
    active_set: ActiveSet,
    rows: np.ndarray,
    counts,
    threshold: float = DEFAULT_THRESHOLD,
    limit: int | None = None,
    gamma: np.ndarray | None = None,
) -> Centres:
    """Select central atoms among descriptor ``rows`` of structures with ``counts`` atoms each
    (``gamma``: the rows' grades when already known)."""
    selection = select_extrapolative(active_set, rows, threshold=threshold, limit=limit, gamma=gamma)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    owners = np.searchsorted(offsets, selection.indices, side='right') - 1
    atoms = selection.indices - offsets[owners]
    return Centres(owners, atoms, selection.gamma, selection.preselected, selection.duplicates)


def cut_around_centres(
    structures: dict[int, Atoms],
    centres: Centres,
    radius: float = DEFAULT_RADIUS,
    merge_distance: float = 3.0,
    periodic_axes: tuple[int, ...] | str = (),
) -> tuple[list[Atoms], int]:
    """Return ``(clusters, merged)``: one cluster per centre left after merging centres of the same
    structure closer than ``merge_distance`` (A); ``structures`` maps structure index to ``Atoms``."""
    clusters, merged = [], 0
    for index in np.unique(centres.structure):
        atoms = structures[int(index)]
        mine = centres.structure == index
        chosen = centres.atom[mine]
        kept, merged_into = merge_nearby_centres(
            atoms.positions, atoms.cell[:], atoms.pbc, chosen, centres.gamma[mine], merge_distance
        )
        merged += len(chosen) - len(kept)
        for centre in kept:
            cluster = cut_neighbourhood(atoms, int(centre), radius=radius, periodic_axes=periodic_axes)
            cluster.info.update(
                source_structure=int(index),
                gamma=float(centres.gamma[mine][chosen == centre][0]),
                merged=[int(c) for c in chosen[(merged_into == centre) & (chosen != centre)]],
            )
            clusters.append(cluster)
    return clusters, merged


def default_merge_distance(active_set: ActiveSet, radius: float) -> float:
    """Cut radius minus the descriptor cutoff: a merged centre's whole environment lies in the cluster."""
    return max(radius - float(active_set.descriptor.get('cutoff', 0.0)), 0.0)


def select_neighbourhoods(
    active_set: ActiveSet,
    structures: Sequence[Atoms],
    threshold: float = DEFAULT_THRESHOLD,
    limit: int | None = None,
    radius: float = DEFAULT_RADIUS,
    merge_distance: float | None = None,
    periodic_axes: tuple[int, ...] | str = (),
) -> Neighbourhoods:
    """Select extrapolative environments of ``structures`` and cut one cluster around each centre.

    :param merge_distance: centres of one structure closer than this (A) give one cluster; default
        :func:`default_merge_distance`.
    """
    rows, counts = _descriptor_rows(active_set, structures)
    grades = _grades(active_set, rows, counts)
    centres = choose_centres(active_set, rows, counts, threshold=threshold, limit=limit, gamma=grades.gamma)
    if merge_distance is None:
        merge_distance = default_merge_distance(active_set, radius)
    clusters, merged = cut_around_centres(dict(enumerate(structures)), centres, radius, merge_distance, periodic_axes)
    return Neighbourhoods(
        clusters=clusters,
        grades=grades,
        preselected=centres.preselected,
        selected=len(centres.atom),
        duplicates=centres.duplicates,
        merged=merged,
    )


SELECTION_DEFAULTS = {
    'threshold': DEFAULT_THRESHOLD,
    'limit': None,
    'radius': DEFAULT_RADIUS,
    'merge_distance': None,
    'periodic_axes': [],
    'vacuum': 0.0,
}


def validate_selection_parameters(parameters: dict) -> dict:
    """Return selection settings completed with ``SELECTION_DEFAULTS``; raise ``ValueError`` on a bad one.

    ``threshold`` (gamma), ``limit`` (clusters, ``None``: no cap), ``radius`` and ``merge_distance`` (A),
    ``periodic_axes`` (list of axes or ``'auto'``), ``vacuum`` (A; > 0 also makes vacuum-padded clusters).
    """
    unknown = set(parameters) - set(SELECTION_DEFAULTS)
    if unknown:
        raise ValueError(f'unknown selection parameter(s): {", ".join(sorted(unknown))}; known: {", ".join(SELECTION_DEFAULTS)}')
    settings = {**SELECTION_DEFAULTS, **parameters}
    if not settings['threshold'] > 0:
        raise ValueError(f'threshold must be positive, got {settings["threshold"]!r}')
    if settings['limit'] is not None and (not isinstance(settings['limit'], int) or settings['limit'] < 1):
        raise ValueError(f'limit must be a positive integer or None, got {settings["limit"]!r}')
    if not settings['radius'] > 0:
        raise ValueError(f'radius must be positive (A), got {settings["radius"]!r}')
    if settings['merge_distance'] is not None and settings['merge_distance'] < 0:
        raise ValueError(f'merge_distance must not be negative (A), got {settings["merge_distance"]!r}')
    axes = settings['periodic_axes']
    if axes != 'auto' and (not isinstance(axes, (list, tuple)) or any(a not in (0, 1, 2) for a in axes)):
        raise ValueError(f"periodic_axes must be 'auto' or a list of axes 0, 1, 2, got {axes!r}")
    if settings['vacuum'] < 0:
        raise ValueError(f'vacuum must not be negative (A), got {settings["vacuum"]!r}')
    return settings
