"""Cut the neighbourhood of a central atom out of a snapshot: the clusters that PCC-GCMC completes.

A cluster holds every atom (every periodic image, in a small cell) within ``radius`` of the central atom,
sorted by distance so the central atom comes first, at unwrapped coordinates: the source's positions
plus one ``translation`` that puts the cluster in its box (0.5 A to spare). Along
``periodic_axes`` the source stays periodic (a dislocation line): the cluster is one period of a cylinder
(one axis) or slab (two axes), with that cell vector kept. Every cut atom is core (``core_mask``):
PCC-GCMC keeps them where they are. The paper's "C" baseline is :func:`pad_with_vacuum`.
"""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms

from ..structures.geometry import enclosing_cell

__all__ = ('DEFAULT_RADIUS', 'DEFAULT_VACUUM', 'cut_neighbourhood', 'pad_with_vacuum', 'short_periodic_axes')

DEFAULT_RADIUS = 8.0  # A, the authors' cut_extrapolative_nbh --cutoff=8
DEFAULT_VACUUM = 8.0  # A on every open side, the paper's cluster ("C") baseline


def _plane_spacings(cell: np.ndarray) -> np.ndarray:
    """Return ``(3,)`` distances (A) between lattice planes spanned by the other two cell vectors."""
    volume = abs(np.linalg.det(cell))
    return np.array([volume / np.linalg.norm(np.cross(cell[(k + 1) % 3], cell[(k + 2) % 3])) for k in range(3)])


def short_periodic_axes(atoms: Atoms, radius: float = DEFAULT_RADIUS) -> tuple[int, ...]:
    """Return the periodic axes along which the cell repeats within the cut diameter ``2 * radius``."""
    if not atoms.pbc.any():
        return ()
    spacings = _plane_spacings(np.array(atoms.cell[:]))
    return tuple(int(k) for k in range(3) if atoms.pbc[k] and spacings[k] < 2 * radius)


def cut_neighbourhood(
    atoms: Atoms, centre: int, radius: float = DEFAULT_RADIUS, periodic_axes: tuple[int, ...] | str = ()
) -> Atoms:
    """Return the cluster of atoms within ``radius`` (A) of atom ``centre`` of ``atoms``.

    :param periodic_axes: source axes kept periodic (distances are then measured perpendicular to them),
        or ``'auto'`` for :func:`short_periodic_axes`.
    :returns: ``Atoms`` with arrays ``core_mask`` (all True) and ``source_index`` (atom of ``atoms``), and
        info ``centre_index`` (0), ``source_centre``, ``cut_radius``, ``periodic_axes`` and ``translation``
        (A; cluster position = source position, unwrapped, + translation).
    """
    if not 0 <= centre < len(atoms):
        raise ValueError(f'central atom {centre} is not an atom of a structure with {len(atoms)} atoms')
    if not radius > 0:
        raise ValueError(f'the cut radius must be positive (A), got {radius!r}')
    pbc = np.asarray(atoms.pbc, dtype=bool)
    kept = short_periodic_axes(atoms, radius) if periodic_axes == 'auto' else tuple(sorted(set(periodic_axes)))
    if any(k not in (0, 1, 2) or not pbc[k] for k in kept):
        raise ValueError(f'periodic_axes {kept} must be periodic axes of the source (pbc {pbc.tolist()})')
    cell = np.array(atoms.cell[:], dtype=float)
    vectors = atoms.positions - atoms.positions[centre]
    if pbc.any():
        fractional = np.linalg.solve(cell.T, vectors.T).T
        fractional[:, pbc] -= np.round(fractional[:, pbc])
        vectors = fractional @ cell
    spacings = _plane_spacings(cell) if pbc.any() else np.ones(3)
    reach = [int(np.ceil(radius / spacings[k])) if pbc[k] and k not in kept else 0 for k in range(3)]
    shifts = np.array(list(itertools.product(*(range(-n, n + 1) for n in reach))))
    images = (vectors[None, :, :] + (shifts @ cell)[:, None, :]).reshape(-1, 3)
    sources = np.tile(np.arange(len(atoms)), len(shifts))
    measured = images
    if kept:
        basis = np.linalg.qr(cell[list(kept)].T)[0]  # orthonormal columns spanning the kept axes
        measured = images - (images @ basis) @ basis.T
    distance = np.linalg.norm(measured, axis=1)
    inside = np.flatnonzero(distance <= radius)
    order = inside[np.lexsort((sources[inside], distance[inside]))]
    positions = atoms.positions[centre] + images[order]
    cluster_pbc = [k in kept for k in range(3)]
    cluster = Atoms(
        numbers=atoms.numbers[sources[order]],
        positions=positions,
        cell=[cell[k] if k in kept else np.zeros(3) for k in range(3)],
        pbc=cluster_pbc,
    )
    box, shifted = enclosing_cell(cluster, margin=0.5)
    translation = shifted[0] - positions[0]
    cluster.set_cell(box)
    cluster.positions = shifted
    cluster.set_array('core_mask', np.ones(len(cluster), dtype=bool))
    cluster.set_array('source_index', sources[order].astype(int))
    cluster.info.update(
        centre_index=0,
        source_centre=int(centre),
        cut_radius=float(radius),
        periodic_axes=list(kept),
        translation=translation.tolist(),
    )
    return cluster


def pad_with_vacuum(cluster: Atoms, vacuum: float = DEFAULT_VACUUM) -> Atoms:
    """Return the cluster in a periodic box with ``vacuum`` (A) on every open side (the "C" baseline).

    Axes that are periodic in the cluster keep their cell vector; arrays and info are kept.
    """
    if not vacuum > 0:
        raise ValueError(f'vacuum must be positive (A), got {vacuum!r}')
    cell, positions = enclosing_cell(cluster, margin=vacuum)
    padded = cluster.copy()
    padded.set_cell(cell)
    padded.positions = positions
    padded.pbc = True
    padded.info['vacuum'] = float(vacuum)
    return padded
