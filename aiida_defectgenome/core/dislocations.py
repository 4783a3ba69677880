"""Straight dislocations to start simulations from: a 1/2<111> screw dislocation in a bcc cylinder.

The crystal is oriented x = [11-2], y = [-110], z = [111] (the line), periodic along z only, and
displaced by the isotropic elastic screw field u_z = b atan2(y - y0, x - x0) / 2 pi, with the line
through the centroid of a triangle of <111> atom columns (the easy-core position).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

__all__ = ('bcc_screw_dislocation',)


def bcc_screw_dislocation(symbol: str, a: float, radius: float = 20.0, periods: int = 3) -> Atoms:
    """Return a bcc cylinder of ``radius`` (A) around a 1/2[111] screw dislocation, ``periods`` Burgers
    vectors long and periodic along the line (z). ``info``: ``burgers`` (A), ``line`` (x0, y0 in A)."""
    burgers = a * np.sqrt(3) / 2
    rotation = np.array([[1, 1, -2], [-1, 1, 0], [1, 1, 1]], dtype=float)
    rotation /= np.linalg.norm(rotation, axis=1)[:, None]
    reach = int(np.ceil((radius + periods * burgers) / a)) + 2
    grid = np.arange(-reach, reach + 1)
    cubic = np.array(np.meshgrid(grid, grid, grid, indexing='ij')).reshape(3, -1).T.astype(float)
    sites = np.vstack([cubic, cubic + 0.5]) * a @ rotation.T
    length = periods * burgers
    keep = (np.hypot(sites[:, 0], sites[:, 1]) <= radius + 1.0) & (sites[:, 2] > -1e-6) & (sites[:, 2] < length - 1e-6)
    sites = sites[keep]
    columns = np.unique(np.round(sites[:, :2], 4), axis=0)
    nearest = columns[np.argsort(np.hypot(columns[:, 0], columns[:, 1]))[:3]]
    line = nearest.mean(axis=0)
    sites = sites[np.hypot(sites[:, 0] - line[0], sites[:, 1] - line[1]) <= radius]
    angle = np.arctan2(sites[:, 1] - line[1], sites[:, 0] - line[0])
    sites[:, 2] = (sites[:, 2] + burgers * angle / (2 * np.pi)) % length
    span = 2 * radius + 10.0
    atoms = Atoms(
        symbol * len(sites),
        positions=sites + [span / 2 - line[0], span / 2 - line[1], 0.0],
        cell=[span, span, length],
        pbc=[False, False, True],
    )
    atoms.info.update(burgers=burgers, line=[span / 2, span / 2])
    return atoms
