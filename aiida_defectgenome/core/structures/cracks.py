"""Straight crack tips under mode I: a slab periodic along the crack front, displaced by the K field.

The crystal is oriented with y along the crack-plane normal, z along the front and x = y x z (the
direction of propagation); the tip is at the slab centre, the crack faces lie on y = 0, x < 0 (the cut
passes between two atomic planes). Displacement: the isotropic plane-strain mode-I field
(Anderson, *Fracture Mechanics*, 3rd ed., table 2.2)
``u_x = K / 2 mu sqrt(r / 2 pi) cos(theta / 2) (kappa - 1 + 2 sin^2(theta / 2))``,
``u_y = K / 2 mu sqrt(r / 2 pi) sin(theta / 2) (kappa + 1 - 2 cos^2(theta / 2))``, ``kappa = 3 - 4 nu``.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from .scenarios import cartesian, cylinder_cell, lattice_of, line_cylinder

__all__ = ('BCC_CRACK_SYSTEMS', 'CRACK_SYSTEMS', 'EV_PER_A25_PER_MPA_SQRT_M', 'EV_PER_A3_PER_GPA', 'crack_slab', 'k_field')

#: The four bcc crack systems of the issue: name -> (crack-plane normal, crack front).
BCC_CRACK_SYSTEMS = {
    '(010)[001]': ((0, 1, 0), (0, 0, 1)),
    '(-110)[001]': ((-1, 1, 0), (0, 0, 1)),
    '(112)[1-10]': ((1, 1, 2), (1, -1, 0)),
    '(-110)[-1-11]': ((-1, 1, 0), (-1, -1, 1)),
}
#: Crack systems of each lattice (hcp: Miller-Bravais names, orthohexagonal indices as in :func:`.scenarios.cartesian`).
CRACK_SYSTEMS = {
    'bcc': BCC_CRACK_SYSTEMS,
    'fcc': {
        '(010)[001]': ((0, 1, 0), (0, 0, 1)),
        '(110)[001]': ((1, 1, 0), (0, 0, 1)),
        '(111)[1-10]': ((1, 1, 1), (1, -1, 0)),
        '(111)[11-2]': ((1, 1, 1), (1, 1, -2)),
    },
    'hcp': {
        '(0001)[2-1-10]': ((0, 0, 1), (1, 0, 0)),
        '(0001)[01-10]': ((0, 0, 1), (0, 1, 0)),
        '(01-10)[0001]': ((0, 1, 0), (0, 0, 1)),
        '(2-1-10)[0001]': ((1, 0, 0), (0, 0, 1)),
    },
}
#: 1 MPa m^1/2 in eV/A^(5/2) (1 MPa = 6.2415e-6 eV/A^3, 1 m^1/2 = 1e5 A^1/2).
EV_PER_A25_PER_MPA_SQRT_M = 6.241509e-6 * 1e5
EV_PER_A3_PER_GPA = 6.241509e-3


def k_field(xy: np.ndarray, k: float, shear_modulus: float, poisson: float) -> np.ndarray:
    """``(n, 2)`` mode-I displacement (A) at ``xy`` ``(n, 2)`` (A, from the tip) for ``k`` (MPa m^1/2),
    ``shear_modulus`` (GPa), plane strain."""
    r = np.hypot(xy[:, 0], xy[:, 1])
    theta = np.arctan2(xy[:, 1], xy[:, 0])
    kappa = 3 - 4 * poisson
    scale = k * EV_PER_A25_PER_MPA_SQRT_M / (2 * shear_modulus * EV_PER_A3_PER_GPA) * np.sqrt(r / (2 * np.pi))
    ux = scale * np.cos(theta / 2) * (kappa - 1 + 2 * np.sin(theta / 2) ** 2)
    uy = scale * np.sin(theta / 2) * (kappa + 1 - 2 * np.cos(theta / 2) ** 2)
    return np.column_stack([ux, uy])


def crack_slab(
    symbol: str,
    a: float,
    system: str = '(010)[001]',
    lattice='bcc',
    radius: float = 30.0,
    periods: int = 1,
    k: float = 1.0,
    shear_modulus: float = 160.0,
    poisson: float = 0.28,
    boundary: float = 6.0,
) -> Atoms:
    """Return a cylinder of ``radius`` (A) around a crack tip of ``system`` (a key of the lattice's
    :data:`CRACK_SYSTEMS`, or ``(normal, front)`` indices) loaded to ``k`` (MPa m^1/2);
    ``periods`` shortest lattice periods of the front long, periodic along it (z). Per-atom ``fixed``:
    the outer shell (``boundary`` A) that holds the K field; ``info``: ``tip`` (x, y A), ``k``, ``system``,
    ``shear_modulus``, ``poisson`` (what a loading needs to raise K)."""
    normal, front = CRACK_SYSTEMS[lattice_of(lattice).name][system] if isinstance(system, str) else system
    if abs(np.dot(cartesian(normal, lattice), cartesian(front, lattice))) > 1e-9:
        raise ValueError(f'the crack front {front} must lie in the crack plane {normal}')
    _, sites, length = line_cylinder(lattice, a, front, normal, radius, periods)
    planes = np.unique(np.round(sites[:, 1], 3))
    cut = planes[np.searchsorted(planes, 0.0)] - 0.5 * np.min(np.diff(planes)[np.diff(planes) > 1e-3])  # between planes
    tip = np.array([0.25 * a, cut])
    sites = sites[np.hypot(sites[:, 0] - tip[0], sites[:, 1] - tip[1]) <= radius]
    relative = sites[:, :2] - tip
    sites[:, :2] += k_field(relative, k, shear_modulus, poisson)
    atoms = cylinder_cell(symbol, sites, tip, radius, length)
    span = float(atoms.cell[0, 0])
    atoms.arrays['fixed'] = np.hypot(relative[:, 0], relative[:, 1]) > radius - boundary
    name = system if isinstance(system, str) else f'{normal}{front}'
    atoms.info.update(
        tip=[span / 2, span / 2], k=k, system=name, shear_modulus=shear_modulus, poisson=poisson, lattice=lattice_of(lattice).name
    )
    return atoms
