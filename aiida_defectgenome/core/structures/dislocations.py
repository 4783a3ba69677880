"""Straight dislocations to start simulations from: screw, edge and mixed, in a cylinder periodic along the line.

The crystal (any lattice of :mod:`.scenarios`, hcp included) is oriented with z along the line, y along the
glide-plane normal and x = y x z, cut to a cylinder around the line, and displaced by the isotropic
elastic field of the dislocation (Hirth & Lothe, *Theory of Dislocations*, 2nd ed., eqs. 3-46 and
3-45): the screw part ``u_z = b_s theta / 2 pi``, the edge part
``u_x = b_e / 2 pi [theta + x y / (2 (1 - nu) r^2)]``,
``u_y = -b_e / 2 pi [(1 - 2 nu) / (4 (1 - nu)) ln r^2 + (x^2 - y^2) / (4 (1 - nu) r^2)]``.
The line passes through the centroid of the three atom columns nearest the cylinder axis (ties broken
by angle). ``bcc_screw_dislocation`` keeps its own construction (x = [11-2], y = [-110], z = [111]),
whose easy-core line position the PCC-GCMC tests and benchmark were measured on.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from .scenarios import cartesian, cylinder_cell, lattice_of, line_cylinder, one_of_each_pair

__all__ = ('BCC_CHARACTERS', 'FCC_CHARACTERS', 'bcc_screw_dislocation', 'dislocation_characters', 'straight_dislocation')

#: 1/2<111> dislocations in bcc: Burgers vector (units of a), line, glide-plane normal (Miller indices).
BCC_CHARACTERS = {
    'screw': ((0.5, 0.5, 0.5), (1, 1, 1), (-1, 1, 0)),
    'edge': ((0.5, 0.5, 0.5), (1, 1, -2), (-1, 1, 0)),
    'mixed': ((0.5, 0.5, 0.5), (1, 1, -1), (-1, 1, 0)),  # 70.5 degrees between b and the line
}
#: 1/2<110>{111} dislocations in fcc, built perfect: relaxed, they split into two Shockley partials.
FCC_CHARACTERS = {
    'screw': ((0.5, -0.5, 0.0), (1, -1, 0), (1, 1, 1)),
    'edge': ((0.5, -0.5, 0.0), (1, 1, -2), (1, 1, 1)),
    'mixed': ((0.5, -0.5, 0.0), (1, 0, -1), (1, 1, 1)),  # 60 degrees between b and the line
}


def dislocation_characters(lattice) -> dict:
    """Return ``{name: (burgers, line, glide_normal)}`` of the lattice's straight dislocations (directions
    as in :func:`.scenarios.cartesian`). hcp (orthohexagonal axes): <a> screw and edge on the basal plane,
    <a> edge on the prismatic plane, and the <c+a> screw on the first-order pyramidal plane (1-10-1)."""
    lattice = lattice_of(lattice)
    if lattice.name == 'bcc':
        return BCC_CHARACTERS
    if lattice.name == 'fcc':
        return FCC_CHARACTERS
    if lattice.name == 'hcp':
        c_a, a_x = np.array([1.0, 0.0, lattice.c_over_a]), np.array([0.5, np.sqrt(3) / 2, 0.0])  # [2-1-13]/3, [11-20]/3
        pyramidal = np.cross(c_a, a_x) / lattice.scale  # the plane holds both; as indices of the cell's edges
        return {
            'a-screw': ((1, 0, 0), (1, 0, 0), (0, 0, 1)),
            'a-edge-basal': ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
            'a-edge-prismatic': ((1, 0, 0), (0, 0, 1), (0, 1, 0)),
            'ca-screw-pyramidal': ((1, 0, 1), (1, 0, 1), tuple(pyramidal / np.abs(pyramidal).max())),
        }
    raise ValueError(f'no dislocations are tabulated for {lattice.name}')


def straight_dislocation(
    symbol: str,
    a: float,
    burgers,
    line,
    glide_normal,
    lattice='bcc',
    radius: float = 20.0,
    periods: int = 1,
    poisson: float = 0.28,
    boundary: float = 5.0,
    overlap: float = 0.4,
) -> Atoms:
    """Return a cylinder of ``radius`` (A) around a straight dislocation with Burgers vector ``burgers``
    (crystal frame, units of the conventional cell's edges: of ``a`` for cubic lattices) along ``line``,
    gliding on the plane of normal ``glide_normal`` (directions as in :func:`.scenarios.cartesian`);
    ``periods`` shortest lattice periods of the line long, periodic along it (z). ``info``: ``burgers``
    (A, box frame), ``line`` (x0, y0 in A), ``character`` angle (degrees between b and the line); per-atom
    ``fixed``: the outer shell (``boundary`` A) that simulations hold at the elastic solution, without which
    the image force of the free surface pulls a mobile (edge) dislocation out of the cylinder. Of two atoms
    closer than ``overlap`` nearest-neighbour distances, one is removed."""
    if abs(np.dot(cartesian(line, lattice), cartesian(glide_normal, lattice))) > 1e-9:
        raise ValueError(f'the line {line} must lie in the glide plane (normal {glide_normal})')
    rotation, sites, length = line_cylinder(lattice, a, line, glide_normal, radius, periods)
    b = rotation @ (cartesian(burgers, lattice) * a)
    if abs(b[1]) > 1e-9:
        raise ValueError(f'the Burgers vector {burgers} must lie in the glide plane (normal {glide_normal})')
    columns = np.unique(np.round(sites[:, :2], 4), axis=0)
    order = np.lexsort((np.round(np.arctan2(columns[:, 1], columns[:, 0]), 6), np.round(np.hypot(columns[:, 0], columns[:, 1]), 4)))
    centre = columns[order[:3]].mean(axis=0)
    sites = sites[np.hypot(sites[:, 0] - centre[0], sites[:, 1] - centre[1]) <= radius]
    sites = sites + _displacement(sites[:, :2] - centre, b, poisson)
    sites[:, 2] %= length
    atoms = cylinder_cell(symbol, sites, centre, radius, length)
    first, second = neighbor_list('ij', atoms, overlap * lattice_of(lattice).nearest_neighbour * a)
    pairs = np.column_stack([first, second])[first < second]  # squeezed at the cut of an edge component
    del atoms[np.flatnonzero(one_of_each_pair(pairs, len(atoms))).tolist()]
    span = float(atoms.cell[0, 0])
    atoms.arrays['fixed'] = np.hypot(*(atoms.positions[:, :2] - span / 2).T) > radius - boundary
    character = np.degrees(np.arccos(min(1.0, abs(b[2]) / np.linalg.norm(b))))
    atoms.info.update(burgers=b.tolist(), line=[span / 2, span / 2], character=float(character), lattice=lattice_of(lattice).name)
    return atoms


def _displacement(xy: np.ndarray, b: np.ndarray, nu: float) -> np.ndarray:
    """``(n, 3)`` isotropic displacement (A) at ``xy`` ``(n, 2)`` (A, from the line) of Burgers vector
    ``b`` (box frame: edge part along x, screw part along z)."""
    x, y = xy[:, 0], xy[:, 1]
    r2 = x**2 + y**2
    theta = np.arctan2(y, x)
    b_edge, b_screw = b[0], b[2]
    u = np.zeros((len(xy), 3))
    u[:, 0] = b_edge / (2 * np.pi) * (theta + x * y / (2 * (1 - nu) * r2))
    u[:, 1] = -b_edge / (2 * np.pi) * ((1 - 2 * nu) / (4 * (1 - nu)) * np.log(r2) + (x**2 - y**2) / (4 * (1 - nu) * r2))
    u[:, 2] = b_screw * theta / (2 * np.pi)
    return u


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
    atoms = cylinder_cell(symbol, sites, line, radius, length)
    span = 2 * radius + 10.0
    atoms.info.update(burgers=burgers, line=[span / 2, span / 2])
    return atoms
