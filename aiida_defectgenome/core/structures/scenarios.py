"""Starting structures for empirical-potential sampling: an oriented single crystal and a Voronoi polycrystal.

Any lattice of :class:`Lattice` (cubic ``'sc'``, ``'bcc'``, ``'fcc'``; ``'hcp'`` with its c/a) and element,
given the lattice constant ``a``. Sites and directions live in the lattice's conventional orthorhombic
cell: for cubic lattices the cube (directions are Miller indices), for hcp the orthohexagonal cell
a x sqrt(3) a x c with x = [2-1-10], y = [01-10], z = [0001] (a direction ``(u, v, w)`` is the vector
``u a x + v sqrt(3) a y + w c z``). Dislocations are in :mod:`.dislocations`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from ase import Atoms
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

__all__ = (
    'BASES',
    'IDEAL_C_OVER_A',
    'Lattice',
    'cartesian',
    'lattice_of',
    'cylinder_cell',
    'direction_period',
    'indentation_slab',
    'line_cylinder',
    'one_of_each_pair',
    'oriented_crystal',
    'polycrystal',
    'vacancy_cluster',
)

#: Fractional sites of the conventional cell of each lattice (hcp: ASE's orthohexagonal cell).
BASES = {
    'sc': np.zeros((1, 3)),
    'bcc': np.array([[0, 0, 0], [0.5, 0.5, 0.5]]),
    'fcc': np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]),
    'hcp': np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 5 / 6, 0.5], [0, 1 / 3, 0.5]]),
}
#: Fractional lattice translations of each conventional cell (the cubic ones are Bravais: their basis).
_TRANSLATIONS = {**BASES, 'hcp': BASES['hcp'][:2]}
IDEAL_C_OVER_A = float(np.sqrt(8 / 3))


@dataclasses.dataclass(frozen=True)
class Lattice:
    """A lattice by ``name`` (a key of :data:`BASES`) and, for hcp, ``c_over_a`` (ignored for cubic ones)."""

    name: str
    c_over_a: float = IDEAL_C_OVER_A

    def __post_init__(self):
        if self.name not in BASES:
            raise ValueError(f'unknown lattice `{self.name}`; known: {", ".join(BASES)}')

    @property
    def scale(self) -> np.ndarray:
        """``(3,)`` edges of the conventional cell in units of ``a``."""
        return np.array([1.0, np.sqrt(3), self.c_over_a]) if self.name == 'hcp' else np.ones(3)

    @property
    def nearest_neighbour(self) -> float:
        """Nearest-neighbour distance in units of ``a``."""
        if self.name == 'hcp':
            return float(min(1.0, np.sqrt(1 / 3 + self.c_over_a**2 / 4)))
        return {'sc': 1.0, 'bcc': np.sqrt(3) / 2, 'fcc': np.sqrt(2) / 2}[self.name]


def lattice_of(lattice) -> Lattice:
    """Return ``lattice`` (a name or a :class:`Lattice`) as a :class:`Lattice`."""
    return lattice if isinstance(lattice, Lattice) else Lattice(lattice)


def cartesian(direction, lattice) -> np.ndarray:
    """``(3,)`` direction (units of ``a``, crystal frame) of ``direction`` (indices along the conventional cell's
    edges; Miller indices for cubic lattices)."""
    return np.asarray(direction, dtype=float) * lattice_of(lattice).scale


def _sites_in(lattice, a: float, rotation: np.ndarray, low: np.ndarray, high: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """``(k, 3)`` sites (A) of the rotated lattice (``rotation`` maps crystal to box frame, one site at
    ``origin``) inside the box ``low <= x < high``."""
    lattice = lattice_of(lattice)
    edges = a * lattice.scale
    corners = np.array(np.meshgrid(*zip(low, high), indexing='ij')).reshape(3, -1).T - origin
    crystal = corners @ rotation / edges  # rows: box -> crystal frame (rotation is orthogonal), in cells
    start, stop = np.floor(crystal.min(axis=0)) - 1, np.ceil(crystal.max(axis=0)) + 1
    grid = np.array(np.meshgrid(*[np.arange(s, e) for s, e in zip(start, stop)], indexing='ij')).reshape(3, -1).T
    sites = (grid[:, None, :] + BASES[lattice.name][None]).reshape(-1, 3) * edges @ rotation.T + origin
    return sites[np.all((sites >= low - 1e-9) & (sites < high - 1e-9), axis=1)]


def direction_period(direction, lattice, a: float) -> float:
    """Length (A) of the shortest lattice translation along ``direction`` (integer indices, see :func:`cartesian`)."""
    lattice = lattice_of(lattice)
    vector = np.asarray(direction, dtype=float)
    vector = vector / np.gcd.reduce(np.abs(vector[vector != 0]).astype(int))
    half = vector / 2  # half vectors are translations for bcc (all odd), fcc (two odd) and hcp's centring
    if any(np.allclose((half - site) % 1.0, 0) or np.allclose((half - site) % 1.0, 1) for site in _TRANSLATIONS[lattice.name]):
        vector = half
    return float(np.linalg.norm(cartesian(vector, lattice)) * a)


def line_cylinder(lattice, a: float, line, normal, radius: float, periods: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Return ``(rotation, sites, length)``: the crystal turned so that z runs along ``line`` and y along
    ``normal`` (directions as in :func:`cartesian`; rows of ``rotation`` are the box axes in the crystal
    frame, x = y x z), its sites (A) within ``radius`` + 2 A of the z axis (square cross-section),
    ``periods`` shortest periods of the line long."""
    y = cartesian(normal, lattice)
    z = cartesian(line, lattice)
    y, z = y / np.linalg.norm(y), z / np.linalg.norm(z)
    rotation = np.array([np.cross(y, z), y, z])
    length = periods * direction_period(line, lattice, a)
    reach = radius + 2.0
    sites = _sites_in(lattice, a, rotation, np.array([-reach, -reach, 0.0]), np.array([reach, reach, length]), np.full(3, 1e-6))
    return rotation, sites, length


def cylinder_cell(symbol: str, sites: np.ndarray, axis, radius: float, length: float) -> Atoms:
    """Return ``sites`` (A) as a cylinder periodic along z (period ``length``) in a box 10 A wider than its
    diameter, the point ``axis`` (x, y) moved to the box centre."""
    span = 2 * radius + 10.0
    return Atoms(
        symbol * len(sites),
        positions=sites + [span / 2 - axis[0], span / 2 - axis[1], 0.0],
        cell=[span, span, length],
        pbc=[False, False, True],
    )


def oriented_crystal(
    symbol: str, a: float, lattice='bcc', directions=((1, 0, 0), (0, 1, 0), (0, 0, 1)), size=(20.0, 20.0, 20.0)
) -> Atoms:
    """Return a periodic single crystal whose x, y, z are the crystal ``directions`` (mutually orthogonal,
    indices as in :func:`cartesian`), about ``size`` (A) along each: whole periods of each direction, so the
    box is periodic."""
    rows = np.array([cartesian(direction, lattice) for direction in directions])
    if abs(np.linalg.det(rows)) < 1e-9 or np.abs(np.triu(rows @ rows.T, 1)).max() > 1e-9:
        raise ValueError(f'directions {directions} must be three mutually orthogonal vectors')
    periods = [direction_period(direction, lattice, a) for direction in directions]
    repeats = [max(1, round(length / period)) for length, period in zip(size, periods)]
    lengths = np.array(periods) * repeats
    rotation = rows / np.linalg.norm(rows, axis=1)[:, None]  # crystal -> box: rows are the box axes in the crystal
    sites = _sites_in(lattice, a, rotation, np.zeros(3), lengths, np.full(3, 1e-6))
    atoms = Atoms(symbol * len(sites), positions=sites, cell=np.diag(lengths), pbc=True)
    atoms.wrap()
    atoms.info.update(lattice=lattice_of(lattice).name, directions=[list(map(int, d)) for d in directions])
    return atoms


def vacancy_cluster(symbol: str, a: float, lattice='bcc', repeat: int = 4, vacancies: int = 2) -> Atoms:
    """Return a periodic ``repeat``-cubed supercell of conventional cells with its ``vacancies`` sites
    nearest the centre removed (a compact vacancy cluster; 0: the perfect crystal)."""
    lattice = lattice_of(lattice)
    if not 0 <= vacancies < repeat**3 * len(BASES[lattice.name]):
        raise ValueError(f'cannot remove {vacancies} atoms from {repeat}^3 {lattice.name} cells')
    crystal = oriented_crystal(symbol, a, lattice, size=tuple(repeat * a * lattice.scale))
    distance = np.linalg.norm(crystal.positions - crystal.cell.lengths() / 2 + 1e-3, axis=1)
    del crystal[np.argsort(distance, kind='stable')[:vacancies].tolist()]
    return crystal


def polycrystal(
    symbol: str,
    a: float,
    lattice='bcc',
    length: float = 40.0,
    grains: int = 4,
    seed: int = 1,
    min_distance_fraction: float = 0.6,
) -> Atoms:
    """Return a periodic cube (``length`` A) of ``grains`` randomly oriented grains (Voronoi cells of random
    centres, periodic); of two atoms closer than ``min_distance_fraction`` nearest-neighbour distances across
    a boundary one is removed. Per-atom array ``grain``; ``info['grain_centres']`` (A)."""
    if grains < 1:
        raise ValueError('grains must be at least 1')
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, length, (grains, 3))
    box = np.full(3, length)
    rotations = Rotation.random(grains, random_state=seed).as_matrix()
    tree = cKDTree(centres, boxsize=length)
    positions, owner = [], []
    for g, (centre, rotation) in enumerate(zip(centres, rotations)):
        sites = _rotated_cover(lattice, a, rotation, centre, length)
        nearest = tree.query(sites % length)[1]
        keep = nearest == g
        positions.append(sites[keep] % length)
        owner.append(np.full(keep.sum(), g))
    positions, owner = np.vstack(positions), np.concatenate(owner)
    limit = min_distance_fraction * lattice_of(lattice).nearest_neighbour * a
    drop = one_of_each_pair(cKDTree(positions, boxsize=length).query_pairs(limit, output_type='ndarray'), len(positions))
    atoms = Atoms(symbol * int((~drop).sum()), positions=positions[~drop], cell=np.diag(box), pbc=True)
    atoms.arrays['grain'] = owner[~drop]
    atoms.info.update(lattice=lattice_of(lattice).name, grain_centres=centres.tolist(), seed=seed)
    return atoms


def one_of_each_pair(pairs: np.ndarray, count: int) -> np.ndarray:
    """``(count,)`` mask of the atoms to drop so that of each close pair ``(i, j)`` (``(k, 2)``, i < j, in order)
    only the first stays; an atom already dropped leaves its other partners be."""
    drop = np.zeros(count, dtype=bool)
    for i, j in pairs:
        if not drop[i] and not drop[j]:
            drop[j] = True
    return drop


def _rotated_cover(lattice, a: float, rotation: np.ndarray, centre: np.ndarray, length: float) -> np.ndarray:
    """Sites of the lattice rotated by ``rotation`` about ``centre`` in the cube of edge ``length`` centred
    there: exactly one periodic image of every point of the box."""
    half = np.full(3, length / 2)
    return _sites_in(lattice, a, rotation, centre - half, centre + half, centre)


def indentation_slab(
    symbol: str,
    a: float,
    lattice='bcc',
    directions=((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    size=(40.0, 40.0, 30.0),
    fixed: float = 3.0,
    thermostat: float = 6.0,
    vacuum: float = 20.0,
) -> Atoms:
    """Return a slab periodic in x and y with its free surface up (z), for indentation: the bottom
    ``fixed`` A come first (hold them with ``frozen``: ``info['n_fixed']``), the next ``thermostat`` A are
    the thermostat layer (``info['thermostat_below']``, z in A), ``info['surface']`` is the top (z, A);
    ``vacuum`` A above the surface leave room for the indenter (the paper's Methods, scaled down)."""
    crystal = oriented_crystal(symbol, a, lattice, directions, size)
    z = crystal.positions[:, 2]
    order = np.argsort(z, kind='stable')
    slab = crystal[order]
    slab.set_cell(np.diag([*crystal.cell.lengths()[:2], crystal.cell.lengths()[2] + vacuum]))
    slab.pbc = [True, True, False]
    bottom = slab.positions[:, 2].min()
    slab.info.update(
        n_fixed=int(np.sum(slab.positions[:, 2] < bottom + fixed)),
        thermostat_below=float(bottom + fixed + thermostat),
        surface=float(slab.positions[:, 2].max()),
    )
    return slab
