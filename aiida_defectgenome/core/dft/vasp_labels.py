"""VASP results (as aiida-vasp's parser reports them) into labels, and the INCAR of a labelling run."""

from __future__ import annotations

import numpy as np

from ..structures.datasets import Labels

__all__ = ('EV_PER_A3_PER_KBAR', 'labels_from_vasp', 'single_point_incar')

#: 1 kBar = 0.1 GPa = 0.1 / 160.21766 eV/A^3.
EV_PER_A3_PER_KBAR = 0.1 / 160.21766208


def labels_from_vasp(misc: dict) -> Labels:
    """Return the labels in aiida-vasp's ``misc`` output: the free energy (eV, TOTEN: the force-consistent
    energy) of the last SCF step (``total_energies.energy_free_electronic``; ``energy_free`` holds the
    ionic-step value, which includes PSTRESS x V when PSTRESS is set), ``forces`` ``(n, 3)`` eV/A,
    ``stress`` ``(3, 3)`` kBar (VASP sign: positive is compressive), turned into eV/A^3 with ASE's sign
    (positive is tensile). KeyError names what is missing."""
    energies = misc['total_energies']
    key = next((k for k in ('energy_free_electronic', 'energy_free') if k in energies), None)
    if key is None:
        raise KeyError(f'energy_free (parser setting energy_type) is not among the parsed energies {sorted(energies)}')
    forces = np.asarray(misc['forces'], dtype=float).reshape(-1, 3)
    stress = misc.get('stress')
    stress = None if stress is None else -EV_PER_A3_PER_KBAR * np.asarray(stress, dtype=float).reshape(3, 3)
    return Labels(energy=float(energies[key]), forces=forces, stress=stress)


def single_point_incar(protocol_incar: dict, single_point: dict, overrides: dict | None = None) -> dict:
    """Return the INCAR (lower-case keys, as aiida-vasp wants them) of a labelling single point: the
    protocol's keys, the single-point keys (no ionic steps, stress written, no WAVECAR/CHGCAR), then ``overrides``."""
    incar = {**protocol_incar, **single_point, **(overrides or {})}
    return {key.lower(): value for key, value in incar.items()}
