"""Clusters the way users get them: 8 A cuts around a defect of an EAM-relaxed W simulation of >= 2,000 atoms.

Each source is built by the project's own scenario builders, relaxed with EAM-Zhou W in LAMMPS (held
shells kept at their elastic solution, as the sampling runs hold them), and cut with
:func:`aiida_defectgenome.core.doptimality.clusters.cut_neighbourhood` at the default 8 A around the atom that a
selection would pick there (the one nearest the dislocation line, the crack tip, the loop's rim, a grain
boundary away from junctions, the centre of a vacancy or interstitial cluster). Nothing here is an
ideal, unrelaxed cluster. Used by ``tests/core/test_pcc_gcmc_realistic.py`` and ``benchmarks/pcc_gcmc.py``.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from ase import Atoms

from aiida_defectgenome.core.doptimality.clusters import DEFAULT_RADIUS, cut_neighbourhood
from aiida_defectgenome.core.structures.cracks import crack_slab
from aiida_defectgenome.core.structures.dislocations import BCC_CHARACTERS, straight_dislocation
from aiida_defectgenome.core.structures.geometry import minimum_image
from aiida_defectgenome.core.structures.loops import interstitial_loop
from aiida_defectgenome.core.structures.scenarios import oriented_crystal, polycrystal

from .defect_cells import A0, relax_eam

_RELAX = 'minimize 0 1e-6 5000 50000'
_RELAX_LOOP = 'min_style fire\nminimize 0 1e-3 3000 30000'  # added atoms travel far: CG would take minutes


@dataclasses.dataclass
class RealisticCluster:
    """``cluster`` (cut at 8 A; per-atom ``energies`` from the source, eV), ``source_atoms`` (size of the
    relaxed simulation), ``empty_sites`` ``(k, 3)`` A relative to the central atom that must stay empty
    (the cluster's own vacancies), or ``None``."""

    name: str
    cluster: Atoms
    source_atoms: int
    empty_sites: np.ndarray | None = None


def _cut(name: str, source: Atoms, centre: int, periodic_axes=(), empty_sites=None) -> RealisticCluster:
    cluster = cut_neighbourhood(source, centre, radius=DEFAULT_RADIUS, periodic_axes=periodic_axes)
    cluster.arrays['energies'] = source.arrays['energies'][cluster.arrays['source_index']]
    return RealisticCluster(name, cluster, len(source), empty_sites)


def _held_first_relaxed(atoms: Atoms) -> Atoms:
    """Relax ``atoms`` with its ``fixed`` shell held at the elastic solution (held atoms first)."""
    order = np.argsort(~atoms.arrays['fixed'], kind='stable')
    atoms = atoms[order]
    return relax_eam(atoms, frozen=int(atoms.arrays['fixed'].sum()), minimize=_RELAX)


def _nearest_line_atom(atoms: Atoms) -> int:
    line = np.asarray(atoms.info.get('line', atoms.info.get('tip')))
    return int(np.argmin(np.linalg.norm(atoms.positions[:, :2] - line, axis=1)))


def dislocation(character: str, sign: int = 1, radius: float = 40.0) -> RealisticCluster:
    """A straight 1/2<111> dislocation (``screw``, ``edge``, ``mixed``) in a cylinder periodic along the
    line; ``sign`` -1 reverses the Burgers vector (the other core polarity)."""
    burgers, line, normal = BCC_CHARACTERS[character]
    periods = {'screw': 3, 'mixed': 3, 'edge': 1}[character]
    atoms = straight_dislocation('W', A0, sign * np.asarray(burgers), line, normal, radius=radius, periods=periods)
    relaxed = _held_first_relaxed(atoms)
    name = f'{character} 1/2<111>' + (' (-b)' if sign < 0 else '')
    return _cut(name, relaxed, _nearest_line_atom(relaxed), periodic_axes=(2,))


def crack_tip(k: float = 1.3, radius: float = 60.0) -> RealisticCluster:
    """A (010)[001] mode-I crack tip loaded to ``k`` (MPa m^1/2, below its Griffith load)."""
    relaxed = _held_first_relaxed(crack_slab('W', A0, '(010)[001]', radius=radius, k=k))
    return _cut(f'crack tip (010)[001] K={k:g}', relaxed, _nearest_line_atom(relaxed), periodic_axes=(2,))


def _loop_rim_atom(atoms: Atoms, centre, burgers, radius: float) -> int:
    """The highest-energy atom within 2 A of the loop's rim (its dislocation line)."""
    unit = np.asarray(burgers, dtype=float) / np.linalg.norm(burgers)
    relative = minimum_image(atoms.positions - centre, atoms.cell[:], atoms.pbc)
    along = relative @ unit
    across = np.linalg.norm(relative - np.outer(along, unit), axis=1)
    near = np.flatnonzero((np.abs(across - radius) < 2.0) & (np.abs(along) < 2.0))
    return int(near[np.argmax(atoms.arrays['energies'][near])])


def loop(kind: str) -> RealisticCluster:
    """An interstitial loop in a 10^3 bcc cell (2,000 sites): ``'111'`` (1/2<111>, radius 8 A) or ``'100'``
    (<100>, radius 7 A); the cut is centred on its rim."""
    crystal = oriented_crystal('W', A0, 'bcc', size=(10 * A0,) * 3)
    centre = crystal.cell.lengths() / 2 + 0.1
    burgers, radius = (np.full(3, A0 / 2), 8.0) if kind == '111' else (np.array([A0, 0, 0]), 7.0)
    relaxed = relax_eam(interstitial_loop(crystal, centre, burgers, radius), minimize=_RELAX_LOOP)
    name = '1/2<111> loop segment' if kind == '111' else '<100> loop segment'
    return _cut(name, relaxed, _loop_rim_atom(relaxed, centre, burgers, radius))


def grain_boundary(length: float = 36.0, seed: int = 3) -> RealisticCluster:
    """A general grain boundary of a relaxed four-grain polycrystal, away from triple junctions."""
    relaxed = relax_eam(polycrystal('W', A0, 'bcc', length=length, grains=4, seed=seed), minimize=_RELAX)
    centres = np.array(relaxed.info['grain_centres'])
    distances = np.sort(
        [np.linalg.norm(minimum_image(relaxed.positions - c, relaxed.cell[:], relaxed.pbc), axis=1) for c in centres], axis=0
    )
    on_boundary = np.flatnonzero(distances[1] - distances[0] < 1.0)
    centre = int(on_boundary[np.argmax(distances[2][on_boundary] - distances[1][on_boundary])])
    return _cut('general grain boundary', relaxed, centre)


def vacancy_cluster(count: int = 4, repeat: int = 11) -> RealisticCluster:
    """A compact cluster of ``count`` vacancies (a central site and its nearest neighbours) in a
    ``repeat``^3 bcc cell; the cut is centred on the atom nearest the vacancies' centroid."""
    atoms = oriented_crystal('W', A0, 'bcc', size=(repeat * A0,) * 3)
    middle = atoms.cell.lengths() / 2
    distances = np.linalg.norm(atoms.positions - middle, axis=1)
    removed = np.argsort(distances, kind='stable')[:count]
    sites = atoms.positions[removed]
    del atoms[removed.tolist()]
    relaxed = relax_eam(atoms, minimize=_RELAX)
    centre = int(np.argmin(np.linalg.norm(relaxed.positions - sites.mean(axis=0), axis=1)))
    empty = minimum_image(sites - relaxed.positions[centre], relaxed.cell[:], relaxed.pbc)
    return _cut(f'{count}-vacancy cluster', relaxed, centre, empty_sites=empty)


def interstitial_cluster(repeat: int = 11) -> RealisticCluster:
    """A self-interstitial cluster: a 1/2<111> platelet of 7 crowdions in a ``repeat``^3 bcc cell."""
    crystal = oriented_crystal('W', A0, 'bcc', size=(repeat * A0,) * 3)
    centre = crystal.cell.lengths() / 2 + 0.1
    relaxed = relax_eam(interstitial_loop(crystal, centre, np.full(3, A0 / 2), 2.8), minimize=_RELAX)
    middle = np.argmax(relaxed.arrays['energies'])
    return _cut(f'self-interstitial cluster ({relaxed.info["loop"]["added"]} SIAs)', relaxed, int(middle))


BUILDERS = {
    'screw': functools.partial(dislocation, 'screw', 1),
    'screw -b': functools.partial(dislocation, 'screw', -1),
    'edge': functools.partial(dislocation, 'edge', 1),
    'mixed': functools.partial(dislocation, 'mixed', 1),
    'loop 111': functools.partial(loop, '111'),
    'loop 100': functools.partial(loop, '100'),
    'grain boundary': grain_boundary,
    'crack tip': crack_tip,
    'tetra-vacancy': vacancy_cluster,
    'interstitials': interstitial_cluster,
}


@functools.cache
def realistic_cluster(key: str) -> RealisticCluster:
    """The named cluster (a key of :data:`BUILDERS`), built once per process."""
    return BUILDERS[key]()
