"""Read labelled configurations (energy, forces, optional stress) from any file ASE reads.

Compressed files (``.gz``, ``.bz2``, ``.xz``) are decompressed into a temporary file first: ``ase.io.read``
on the gzip file of the 678-configuration W basic set takes 11.4 s, this way 0.44 s
(``benchmarks/genome_import.py``).
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import hashlib
import lzma
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.stress import voigt_6_to_full_3x3_stress

__all__ = ('DatasetError', 'Labels', 'fingerprint', 'labelled_atoms', 'read_configurations', 'read_structures')

_OPENERS = {'.gz': gzip.open, '.bz2': bz2.open, '.xz': lzma.open}


class DatasetError(ValueError):
    """A dataset file cannot be read or lacks the labels a genome needs."""


@dataclasses.dataclass
class Labels:
    """Reference labels of one configuration: ``energy`` (eV, total), ``forces`` ``(n, 3)`` eV/A,
    ``stress`` ``(3, 3)`` eV/A^3 (ASE sign: positive is tensile) or ``None``."""

    energy: float
    forces: np.ndarray
    stress: np.ndarray | None = None


def read_configurations(path) -> list[tuple[Atoms, Labels]]:
    """Return ``(atoms, labels)`` for every frame of ``path``; raise :class:`DatasetError` on bad input."""
    path = Path(path)
    return [(atoms, _labels(atoms, index, path.name)) for index, atoms in enumerate(read_structures(path))]


def read_structures(path, species: Sequence[str] | None = None) -> list[Atoms]:
    """Return every frame of ``path`` (any format ASE reads, gzip/bzip2/xz too, LAMMPS text dumps).

    :param species: element of each LAMMPS atom type, type 1 first; needed for a dump without an
        ``element`` column.
    :raises DatasetError: on a missing, unreadable or empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f'no such file: {path}')
    opener = _OPENERS.get(path.suffix)
    try:
        if opener is None:
            frames = _read_frames(path, species)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                inner = Path(tmp) / path.stem
                with opener(path, 'rb') as source, open(inner, 'wb') as target:
                    shutil.copyfileobj(source, target)
                frames = _read_frames(inner, species)
    except DatasetError:
        raise
    except Exception as exc:  # ASE raises many kinds of errors for unreadable files
        raise DatasetError(f'cannot read {path.name} as a structure file: {type(exc).__name__}: {exc}') from exc
    if isinstance(frames, Atoms):
        frames = [frames]
    if not frames:
        raise DatasetError(f'{path.name} holds no configuration')
    found = {symbol for atoms in frames for symbol in atoms.get_chemical_symbols()}
    if species and not found <= set(species):
        raise DatasetError(
            f'{path.name} holds {", ".join(sorted(found - set(species)))}, which the species given '
            f'({", ".join(species)}) do not name'
        )
    return frames


def _read_frames(path: Path, species: Sequence[str] | None) -> list[Atoms]:
    with open(path, 'rb') as handle:
        is_dump = handle.read(14) == b'ITEM: TIMESTEP'
    if not is_dump:
        return ase.io.read(path, index=':')
    frames = ase.io.read(path, index=':', format='lammps-dump-text', specorder=list(species) if species else None)
    if not species and not _has_element_column(path):
        raise DatasetError(f'{path.name} is a LAMMPS dump without an element column: give the species of each type')
    return frames


def _has_element_column(path: Path) -> bool:
    with open(path) as handle:
        for line in handle:
            if line.startswith('ITEM: ATOMS'):
                return 'element' in line.split()
    return False


def _labels(atoms: Atoms, index: int, filename: str) -> Labels:
    where = f'{filename}, configuration {index}'
    _check_geometry(atoms, where)
    calc = atoms.calc
    results = getattr(calc, 'results', {}) if calc is not None else {}
    energy = results.get('energy', results.get('free_energy'))
    forces = results.get('forces')
    if energy is None or forces is None:
        raise DatasetError(f'{where}: no energy and forces (a genome needs both)')
    try:
        energy = float(energy)
        forces = np.asarray(forces, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f'{where}: energy or forces are not numbers ({exc})') from exc
    if forces.shape != (len(atoms), 3):
        raise DatasetError(f'{where}: forces have shape {forces.shape}, expected ({len(atoms)}, 3) for {len(atoms)} atoms')
    if not np.isfinite(energy) or not np.all(np.isfinite(forces)):
        raise DatasetError(f'{where}: energy or forces are not finite')
    stress = results.get('stress')
    if stress is not None:
        stress = np.asarray(stress, dtype=float)
        if stress.shape not in ((6,), (3, 3)) or not np.all(np.isfinite(stress)):
            raise DatasetError(f'{where}: stress must be 6 Voigt or 3x3 finite numbers, got shape {stress.shape}')
        stress = voigt_6_to_full_3x3_stress(stress) if stress.shape == (6,) else stress
    return Labels(energy=energy, forces=forces, stress=stress)


def _check_geometry(atoms: Atoms, where: str) -> None:
    """Raise :class:`DatasetError` for a frame no genome can hold: no atoms, non-finite positions or cell, or a
    periodic axis with a zero cell vector."""
    if len(atoms) == 0:
        raise DatasetError(f'{where}: no atoms')
    if not np.all(np.isfinite(atoms.positions)) or not np.all(np.isfinite(atoms.cell.array)):
        raise DatasetError(f'{where}: positions or cell are not finite numbers')
    lengths = atoms.cell.lengths()
    flat = [axis for axis, periodic, length in zip('abc', atoms.pbc, lengths) if periodic and length < 1e-6]
    if flat:
        raise DatasetError(f'{where}: periodic along {", ".join(flat)} with a zero cell vector')


def fingerprint(atoms: Atoms, labels: Labels) -> str:
    """Return a SHA-256 hex digest of the species, cell, pbc, positions and energy (rounded to 1e-6).

    Two frames with the same fingerprint are the same configuration with the same label.
    """
    digest = hashlib.sha256()
    digest.update(np.asarray(atoms.numbers, dtype=np.int64).tobytes())
    for array in (atoms.cell.array, atoms.positions, [labels.energy]):
        digest.update(np.round(np.asarray(array, dtype=float), 6).tobytes())
    digest.update(np.asarray(atoms.pbc, dtype=bool).tobytes())
    return digest.hexdigest()


def labelled_atoms(atoms: Atoms, labels: Labels) -> Atoms:
    """Return a copy of ``atoms`` carrying ``labels`` through a single-point calculator (ASE conventions)."""
    atoms = atoms.copy()
    results = {'energy': labels.energy, 'forces': labels.forces}
    if labels.stress is not None:
        results['stress'] = labels.stress
    atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms
