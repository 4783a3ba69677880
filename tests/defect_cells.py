"""EAM-relaxed W cells with one kind of defect each, and the atoms near it, for the gamma tests."""

import numpy as np
from ase import Atoms
from ase.build import bcc100, bulk

from aiida_defectgenome.core.lammps.library import apply_potential, current_positions, load_atoms, open_lammps, per_atom_order
from aiida_defectgenome.core.lammps.potentials import bundled_potential
from aiida_defectgenome.core.structures.dislocations import bcc_screw_dislocation

A0 = 3.16485  # A, EAM-Zhou W


def relax_eam(atoms: Atoms, frozen: int = 0, minimize: str = 'min_style fire\nminimize 0 1e-2 500 5000') -> Atoms:
    """Return ``atoms`` relaxed by the EAM-Zhou W potential (fixed cell), the first ``frozen`` atoms held
    exactly where they are; ``info['energy_per_atom']`` (eV) is the relaxed energy and ``arrays['energies']``
    the per-atom energies (eV)."""
    lmp = open_lammps()
    apply_potential(lmp, bundled_potential('eam-zhou-W'), load_atoms(lmp, atoms))
    if frozen:
        lmp.commands_list([f'group core id 1:{frozen}', 'fix freeze core setforce 0 0 0'])
    lmp.command('compute dg_pe all pe/atom')
    lmp.commands_string(minimize)
    relaxed = atoms.copy()
    relaxed.positions[frozen:] = current_positions(lmp, atoms)[frozen:]
    relaxed.info['energy_per_atom'] = lmp.get_thermo('pe') / len(atoms)
    energies = np.empty(len(atoms))
    energies[per_atom_order(lmp)] = lmp.numpy.extract_compute('dg_pe', 1, 1)[: len(atoms)]
    relaxed.arrays['energies'] = energies
    lmp.close()
    return relaxed


def vacancy_cluster():
    """A 6x6x6 bcc cell with a four-vacancy cluster (a central atom and three of its neighbours)."""
    atoms = bulk('W', 'bcc', a=A0, cubic=True) * 6
    centre = np.argmin(np.linalg.norm(atoms.positions - atoms.cell.sum(axis=0) / 2, axis=1))
    distances = np.linalg.norm(atoms.positions - atoms.positions[centre], axis=1)
    removed = np.argsort(distances)[:4]
    sites = atoms.positions[removed]
    del atoms[removed]
    return relax_eam(atoms), sites


def interstitial_loop():
    """An 8x8x8 bcc cell with a disc of 12 extra atoms between two (002) planes: a <100> loop nucleus."""
    atoms = bulk('W', 'bcc', a=A0, cubic=True) * 8
    middle = atoms.cell.sum(axis=0) / 2
    grid = np.array([(i, j) for i in range(-3, 3) for j in range(-3, 3)], dtype=float) * A0
    disc = grid[np.linalg.norm(grid + [A0 / 2, 0], axis=1) < 1.9 * A0][:12]
    sites = np.column_stack([disc[:, 0] + A0 / 2, disc[:, 1], np.full(len(disc), A0 / 4)]) + np.round(middle / A0) * A0
    atoms += Atoms('W' * len(sites), positions=sites)
    return relax_eam(atoms), sites


def free_surface():
    """A (001) slab of 3x3x10 cubic cells with 10 A of vacuum; the sites are its outermost atoms."""
    atoms = bcc100('W', size=(3, 3, 20), a=A0, vacuum=10.0, orthogonal=True)
    z = atoms.positions[:, 2]
    sites = atoms.positions[(z < z.min() + 0.1) | (z > z.max() - 0.1)]
    return relax_eam(atoms), sites


def grain_boundary():
    """A bicrystal sphere (radius 18 A): the upper grain turned 37 degrees about a general axis."""
    lattice = bulk('W', 'bcc', a=A0, cubic=True) * 14
    lattice.positions -= lattice.cell.sum(axis=0) / 2
    axis = np.array([1.0, 2.0, 4.0]) / np.sqrt(21.0)
    angle = np.radians(37.0)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotation = np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross
    lower = lattice.positions[(lattice.positions[:, 2] < 0)]
    upper = lattice.positions @ rotation.T
    upper = upper[upper[:, 2] >= 0]
    positions = np.vstack([lower, upper])
    positions = positions[np.linalg.norm(positions, axis=1) < 18.0]
    keep = np.ones(len(positions), dtype=bool)  # drop the upper atom of any pair closer than 0.75 a0
    for i in np.flatnonzero(positions[:, 2] >= 0):
        distances = np.linalg.norm(positions[:i] - positions[i], axis=1)
        if (distances[keep[:i]] < 0.75 * A0).any():
            keep[i] = False
    atoms = Atoms('W' * keep.sum(), positions=positions[keep], pbc=False)
    return relax_eam(atoms), None


def screw_dislocation(radius: float = 20.0, periods: int = 3):
    """A relaxed 1/2[111] screw dislocation in a W cylinder periodic along the line (z), atoms beyond
    ``radius - 5`` A held at the elastic solution; the site is the atom nearest the line."""
    atoms = bcc_screw_dislocation('W', A0, radius=radius, periods=periods)
    line = np.array(atoms.info['line'])
    distance = np.linalg.norm(atoms.positions[:, :2] - line, axis=1)
    atoms = atoms[np.argsort(-distance, kind='stable')]
    frozen = int(np.sum(distance > radius - 5.0))
    relaxed = relax_eam(atoms, frozen=frozen, minimize='minimize 0 1e-6 5000 50000')
    distance = np.linalg.norm(relaxed.positions[:, :2] - line, axis=1)
    return relaxed, relaxed.positions[[int(distance.argmin())]]
