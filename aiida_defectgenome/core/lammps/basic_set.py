"""A basic set for any element, made with its EIP: the configurations a DFT basic set starts from.

The paper's basic W set (Table S1) holds ground-state and other crystals under strain, hot and molten cells,
point defects and free surfaces. :func:`basic_configurations` builds the same kinds for the element of a
potential in the lattice of its ground state (:func:`.local.ground_state`):

- ``crystal``: the ground state and the two other lattices of bcc, fcc, hcp at the same atomic volume,
  under isotropic strains ``strains`` (linear);
- ``strained``: the ground state under ``random_strains`` random strain tensors (components up to
  ``max_strain``), atoms rattled by ``rattle`` A;
- ``hot``: NVT snapshots (LAMMPS, the EIP) at ``temperatures`` given as fractions of a melting point
  estimated from the cohesive energy, k_B T_m ~ 0.034 |E_coh| (W 3,500 K, Cu 1,400 K; measured 3,695 and
  1,358 K), ``snapshots`` of each; above 1 the cell melts;
- ``vacancy``, ``divacancy``, ``interstitial``: point defects in the ground state, relaxed by the EIP, and
  a rattled copy of each;
- ``surface``: low-index slabs with ``vacuum`` A above them, rattled.

Cells are about ``size`` A along each axis. Every configuration's ``info`` names its ``kind`` and ``variant``.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from ..structures.geometry import minimum_image
from ..structures.scenarios import BASES, Lattice, lattice_of, oriented_crystal
from .local import run_lammps

__all__ = ('MELTING_RULE', 'SURFACES', 'basic_configurations', 'melting_estimate')

#: k_B T_m / |E_coh| from measured melting points and cohesive energies (Kittel's tables): W 0.036, Mo 0.037,
#: Cu 0.034, Ni 0.034, but Al 0.024: a rule of thumb for where the hot cells of an unknown metal melt.
MELTING_RULE = 0.034
K_B = 8.617333e-5  # eV/K
#: Surface normals (indices of each lattice's conventional cell, see :func:`..structures.scenarios.cartesian`)
#: with two in-plane directions.
SURFACES = {
    'bcc': {
        '100': ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
        '110': ((0, 0, 1), (1, -1, 0), (1, 1, 0)),
        '211': ((0, 1, -1), (1, -1, -1), (2, 1, 1)),
    },
    'fcc': {
        '100': ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
        '110': ((0, 0, 1), (1, -1, 0), (1, 1, 0)),
        '111': ((1, -1, 0), (1, 1, -2), (1, 1, 1)),
    },
    'hcp': {
        '0001': ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
        '01-10': ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
        '2-1-10': ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
    },
}


def melting_estimate(cohesive_energy: float) -> float:
    """Estimated melting point (K) of a metal of ``cohesive_energy`` (eV/atom), :data:`MELTING_RULE`."""
    return MELTING_RULE * abs(cohesive_energy) / K_B


def basic_configurations(potential, symbol: str, lattice, a: float, cohesive_energy: float, settings: dict) -> list[Atoms]:
    """Return the basic set of ``symbol`` (ground state ``lattice`` with constant ``a`` A and ``cohesive_energy``
    eV/atom under ``potential``) as ``settings`` (a protocol of ``protocols/basic_set.yaml``) asks."""
    lattice = lattice_of(lattice)
    rng = np.random.default_rng(settings['seed'])
    size = settings['size']
    ground = oriented_crystal(symbol, a, lattice, size=(size,) * 3)
    frames = []

    def add(atoms: Atoms, kind: str, variant: str) -> None:
        atoms = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell[:], pbc=atoms.pbc)
        atoms.info.update(kind=kind, variant=variant)
        frames.append(atoms)

    volume = ground.get_volume() / len(ground)
    for other in ('bcc', 'fcc', 'hcp'):
        crystal = ground if other == lattice.name else _crystal_at_volume(symbol, other, volume, size)
        for strain in settings['strains']:
            add(_strained(crystal, np.eye(3) * strain), 'crystal', f'{other} {strain:+.3f}')
    for k in range(settings['random_strains']):
        strain = rng.uniform(-settings['max_strain'], settings['max_strain'], (3, 3))
        add(_rattled(_strained(ground, (strain + strain.T) / 2), settings['rattle'], rng), 'strained', f'random {k}')
    melting = melting_estimate(cohesive_energy)
    for fraction in settings['temperatures']:
        for k in range(settings['snapshots']):
            stage = {'type': 'md', 'temperature': fraction * melting, 'steps': settings['md_steps'], 'timestep': 0.002}
            hot = run_lammps(ground, potential, {'stages': [{**stage, 'seed': int(rng.integers(1, 899999999))}]})['atoms']
            add(hot, 'hot', f'{fraction:g} T_m {k}')
    for name, defect in _point_defects(ground, rng).items():
        relaxed = run_lammps(defect, potential, {'stages': [{'type': 'minimize', 'ftol': 1e-4, 'maxiter': 2000}]})['atoms']
        add(relaxed, name, 'relaxed')
        add(_rattled(relaxed, settings['rattle'], rng), name, 'rattled')
    for name, directions in SURFACES[lattice.name].items():
        if name in settings['surfaces']:
            slab = oriented_crystal(symbol, a, lattice, directions, size=(size * 0.75, size * 0.75, size))
            slab.set_cell(slab.cell[:] + np.diag([0.0, 0.0, settings['vacuum']]))
            slab.pbc = [True, True, False]
            add(_rattled(slab, settings['rattle'], rng), 'surface', f'({name})')
    return frames


def _crystal_at_volume(symbol: str, name: str, volume: float, size: float) -> Atoms:
    """``name`` (bcc, fcc, ideal hcp) at ``volume`` A^3 per atom."""
    lattice = Lattice(name)
    cell_volume = np.prod(lattice.scale)  # conventional cell in units of a^3
    a = (volume * len(BASES[name]) / cell_volume) ** (1 / 3)
    return oriented_crystal(symbol, a, lattice, size=(size,) * 3)


def _strained(atoms: Atoms, strain: np.ndarray) -> Atoms:
    strained = atoms.copy()
    strained.set_cell(atoms.cell[:] @ (np.eye(3) + strain), scale_atoms=True)
    return strained


def _rattled(atoms: Atoms, amplitude: float, rng: np.random.Generator) -> Atoms:
    rattled = atoms.copy()
    rattled.positions += rng.normal(0.0, amplitude, rattled.positions.shape)
    return rattled


def _point_defects(ground: Atoms, rng: np.random.Generator) -> dict[str, Atoms]:
    """A vacancy, a nearest-neighbour divacancy and an interstitial near the middle: the interstitial at the
    emptiest point (largest distance to any atom) among the midpoints of the middle atom's bonds and of
    the bonds between its neighbours (the octahedral hole in bcc, fcc and hcp)."""
    middle = int(np.argmin(np.linalg.norm(ground.positions - ground.cell.lengths() / 2, axis=1)))
    distance = ground.get_distances(middle, range(len(ground)), mic=True)
    order = np.argsort(distance)
    vacancy, divacancy, interstitial = ground.copy(), ground.copy(), ground.copy()
    del vacancy[[middle]]
    del divacancy[sorted([middle, int(order[1])])]
    around = ground.positions[middle] + ground.get_distances(middle, order[:15], mic=True, vector=True)
    candidates = ((around[:, None] + around[None]) / 2).reshape(-1, 3)
    clearance = [
        np.linalg.norm(minimum_image(ground.positions - point, ground.cell[:], [True] * 3), axis=1).min() for point in candidates
    ]
    site = candidates[int(np.argmax(clearance))] + rng.normal(0.0, 0.05, 3)
    interstitial += Atoms(ground.get_chemical_symbols()[0], positions=[site])
    interstitial.wrap()
    return {'vacancy': vacancy, 'divacancy': divacancy, 'interstitial': interstitial}
