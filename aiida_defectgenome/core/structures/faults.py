"""Planar faults of close-packed stackings: a stacking fault in a tilted periodic cell and a pair of twin boundaries.

The crystal comes with z normal to its close-packed planes (fcc: ``oriented_crystal(..., directions=((1, -1, 0),
(1, 1, -2), (1, 1, 1)))``; hcp: the default orthohexagonal axes). Its atoms form layers of equal z; each layer
sits on one of three in-plane registries A, B, C that differ by a shift ``s`` (fcc a/6<112>, hcp the same in
the basal plane). Moving the upper half of the crystal by the shift from the layer below the cut to the
layer above it gives the intrinsic stacking fault (fcc ABC|BCA) or hcp's I2 fault (AB|CA); tilting the cell's
third vector by the same shift keeps one fault per period. Mirroring the registries about two layers gives
two coherent Sigma-3 twin boundaries in an orthogonal cell (fcc; in hcp the basal mirror is a symmetry).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from .geometry import minimum_image

__all__ = ('layers', 'registry_shift', 'stacking_fault', 'twin_pair')


def layers(atoms: Atoms, tolerance: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(index, heights)``: each atom's layer ``(n,)`` (0 at the bottom) and the layers' z ``(m,)``
    (A), atoms within ``tolerance`` (A) in z sharing a layer."""
    z = atoms.positions[:, 2]
    order = np.argsort(z, kind='stable')
    breaks = np.flatnonzero(np.diff(z[order]) > tolerance) + 1
    index = np.empty(len(z), dtype=int)
    for k, members in enumerate(np.split(order, breaks)):
        index[members] = k
    return index, np.array([z[index == k].mean() for k in range(index.max() + 1)])


def registry_shift(atoms: Atoms, index: np.ndarray, lower: int, upper: int) -> np.ndarray:
    """``(3,)`` in-plane shift (A, z = 0) from layer ``lower``'s registry to layer ``upper``'s: the shortest
    in-plane vector from an atom of the one to an atom of the other."""
    start = atoms.positions[np.flatnonzero(index == lower)[0]]
    vectors = atoms.positions[index == upper] - start
    vectors[:, 2] = 0.0
    vectors = minimum_image(vectors, atoms.cell[:], [True, True, False])
    return vectors[np.argmin(np.linalg.norm(vectors, axis=1))]


def stacking_fault(crystal: Atoms) -> Atoms:
    """Return ``crystal`` with one stacking fault between its middle layers (``info['fault']``: kind, z in A),
    the upper half shifted and the cell's third vector tilted by the same in-plane shift."""
    index, heights = layers(crystal)
    if len(heights) < 4:
        raise ValueError(f'a stacking fault needs at least 4 close-packed layers, not {len(heights)}')
    cut = len(heights) // 2
    shift = registry_shift(crystal, index, cut - 1, cut)
    faulted = crystal.copy()
    faulted.positions[index >= cut] += shift
    cell = faulted.cell[:].copy()
    cell[2] += shift
    faulted.set_cell(cell)
    faulted.wrap()
    faulted.info['fault'] = {'type': 'stacking fault', 'z': float((heights[cut - 1] + heights[cut]) / 2), 'shift': shift.tolist()}
    return faulted


def twin_pair(crystal: Atoms) -> Atoms:
    """Return ``crystal`` with the registries of its upper half mirrored: two coherent twin boundaries, on the
    middle layer and on the top one (``info['fault']``). Needs an even number of layers."""
    index, heights = layers(crystal)
    count = len(heights)
    if count % 2 or count < 6:
        raise ValueError(f'a twin pair needs an even number of layers, 6 or more, not {count}')
    half = count // 2
    twinned = crystal.copy()
    for layer in range(half, count):
        source = (2 * half - 2 - layer) % count  # mirror about layer half - 1 (and, periodically, count - 1)
        members, images = np.flatnonzero(index == layer), np.flatnonzero(index == source)
        if len(members) != len(images):
            raise ValueError('the layers hold different numbers of atoms: not a close-packed stacking')
        twinned.positions[members, :2] = crystal.positions[images, :2]
    twinned.info['fault'] = {'type': 'twin pair', 'z': [float(heights[half - 1]), float(heights[-1])]}
    return twinned
