"""Dislocation loops in a periodic crystal: prismatic (interstitial) loops and glide (shear) loops.

- Interstitial loop of Burgers vector ``t`` (a lattice translation, e.g. a<100> or a/2<111> in bcc): one
  atom is added to every atomic column along ``t`` that crosses a disc of the given radius normal to
  ``t``, halfway between the two atoms that straddle the disc; relaxation spreads the added atoms along
  their columns into the loop (the crowdion picture of self-interstitial clusters).
- Glide loop: every atom is displaced by ``b Omega / 4 pi``, ``Omega`` the solid angle under which it sees
  the loop (Hirth & Lothe, *Theory of Dislocations*, eq. 4-21, the term that carries the slip), computed
  for the loop as a polygon of triangles (Van Oosterom & Strackee, IEEE Trans. Biomed. Eng. 30, 125, 1983).
- Faulted (Frank) loop on a close-packed plane: a disc (or triangle) of one layer removed (vacancy loop), or
  a disc of atoms on the third registry inserted halfway between two layers (interstitial loop, an extrinsic
  fault); relaxation closes or opens the layers around it. A triangular vacancy platelet on an fcc {111} plane
  is the Silcox-Hirsch precursor of a stacking-fault tetrahedron (Silcox & Hirsch, Phil. Mag. 4, 72, 1959).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from .faults import layers, registry_shift
from .geometry import minimum_image

__all__ = ('faulted_loop', 'glide_loop', 'interstitial_loop')


def interstitial_loop(crystal: Atoms, centre, translation, radius: float) -> Atoms:
    """Return ``crystal`` with an interstitial loop of Burgers vector ``translation`` (A, box frame, a
    lattice vector) and ``radius`` (A) around ``centre`` (A); ``info['loop']`` describes it."""
    t = np.asarray(translation, dtype=float)
    unit = t / np.linalg.norm(t)
    relative = minimum_image(crystal.positions - np.asarray(centre, dtype=float), crystal.cell[:], crystal.pbc)
    along = relative @ unit
    across = relative - np.outer(along, unit)
    in_disc = np.linalg.norm(across, axis=1) < radius
    # each column is one position across; the atom just above the disc plane gets a new atom below it
    keys = np.round(across[in_disc] / 0.05).astype(int)
    columns, inverse = np.unique(keys, axis=0, return_inverse=True)
    added = []
    candidates = np.flatnonzero(in_disc)
    for column in range(len(columns)):
        members = candidates[inverse.ravel() == column]
        above = members[(along[members] >= 0) & (along[members] < np.linalg.norm(t) - 1e-6)]
        if len(above):
            added.append(crystal.positions[above[0]] - t / 2)
    loop = crystal.copy()
    loop += Atoms(crystal.get_chemical_symbols()[0] * len(added), positions=np.array(added).reshape(-1, 3))
    loop.wrap()
    loop.info['loop'] = {
        'type': 'interstitial',
        'burgers': t.tolist(),
        'radius': radius,
        'centre': list(map(float, centre)),
        'added': len(added),
    }
    return loop


def glide_loop(crystal: Atoms, centre, normal, burgers, radius: float, segments: int = 72) -> Atoms:
    """Return ``crystal`` with a glide loop of Burgers vector ``burgers`` (A, box frame, in the plane of
    ``normal``) and ``radius`` (A) on the plane through ``centre`` (A)."""
    n = np.asarray(normal, dtype=float)
    n /= np.linalg.norm(n)
    b = np.asarray(burgers, dtype=float)
    if abs(b @ n) > 1e-6 * np.linalg.norm(b):
        raise ValueError('a glide loop needs its Burgers vector in its plane')
    e1 = np.cross(n, [1.0, 0, 0] if abs(n[0]) < 0.9 else [0, 1.0, 0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    angles = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring = radius * (np.outer(np.cos(angles), e1) + np.outer(np.sin(angles), e2))
    relative = minimum_image(crystal.positions - np.asarray(centre, dtype=float), crystal.cell[:], crystal.pbc)
    omega = _polygon_solid_angle(relative, ring)
    loop = crystal.copy()
    loop.positions += np.outer(omega / (4 * np.pi), b)
    loop.wrap()
    loop.info['loop'] = {
        'type': 'glide',
        'burgers': b.tolist(),
        'normal': n.tolist(),
        'radius': radius,
        'centre': list(map(float, centre)),
    }
    return loop


def _polygon_solid_angle(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """``(n,)`` signed solid angle (sr) of the planar polygon ``ring`` ``(m, 3)`` (around the origin) seen
    from ``points`` ``(n, 3)``: the sum over the fan of triangles (origin, ring_k, ring_k+1)."""
    total = np.zeros(len(points))
    a = -points  # the polygon centre, seen from each point
    for k in range(len(ring)):
        b_vec, c_vec = ring[k] - points, ring[(k + 1) % len(ring)] - points
        la, lb, lc = (np.linalg.norm(v, axis=1) for v in (a, b_vec, c_vec))
        numerator = np.einsum('ij,ij->i', a, np.cross(b_vec, c_vec))
        denominator = la * lb * lc + np.einsum('ij,ij->i', a, b_vec) * lc + np.einsum('ij,ij->i', a, c_vec) * lb
        denominator += np.einsum('ij,ij->i', b_vec, c_vec) * la
        total += 2 * np.arctan2(numerator, denominator)
    return total


def faulted_loop(crystal: Atoms, centre, radius: float, kind: str = 'vacancy', shape: str = 'disc') -> Atoms:
    """Return ``crystal`` (z normal to its close-packed layers, see :mod:`.faults`) with a faulted loop on the
    layer nearest ``centre`` (A): ``kind`` ``'vacancy'`` removes the layer's atoms inside the ``shape``
    (``'disc'`` of ``radius`` A, or ``'triangle'`` of circumradius ``radius`` with edges along the
    close-packed rows), ``'interstitial'`` adds a disc of atoms on the third registry halfway up to the next
    layer. ``info['loop']`` describes it."""
    if kind not in ('vacancy', 'interstitial') or shape not in ('disc', 'triangle'):
        raise ValueError(f'kind is vacancy or interstitial and shape disc or triangle, not {kind!r} and {shape!r}')
    index, heights = layers(crystal)
    centre = np.asarray(centre, dtype=float)
    layer = int(np.argmin(np.abs(heights - centre[2])))
    above = (layer + 1) % len(heights)
    shift = registry_shift(crystal, index, layer, above)
    members = np.flatnonzero(index == layer)
    planar = minimum_image(crystal.positions[members] - centre, crystal.cell[:], [True, True, False])[:, :2]
    if shape == 'disc':
        inside = np.linalg.norm(planar, axis=1) < radius
    else:  # vertices along the registry shift (a <112> in fcc) and 120 degrees on: edges along <110>
        angle = np.arctan2(shift[1], shift[0]) + np.array([0.0, 2.0, 4.0]) * np.pi / 3
        vertices = np.column_stack([np.cos(angle), np.sin(angle)])
        inside = np.all(planar @ vertices.T > -radius / 2, axis=1)
    loop = crystal.copy()
    if kind == 'vacancy':
        del loop[members[inside].tolist()]
    else:
        spacing = (heights[above] - heights[layer]) % crystal.cell[2, 2]
        added = crystal.positions[members[inside]] + 2 * shift + [0.0, 0.0, spacing / 2]
        loop += Atoms(crystal.get_chemical_symbols()[0] * len(added), positions=added)
    loop.wrap()
    loop.info['loop'] = {
        'type': f'faulted {kind}',
        'shape': shape,
        'radius': radius,
        'centre': centre.tolist(),
        'sites': int(inside.sum()),
    }
    return loop
