"""One GPAW single point (plane waves): energy, forces and stress of a structure, written as JSON.

This file is also the script a ``GpawCalculation`` copies next to its input and runs with GPAW's own
``gpaw python`` (or ``mpiexec -n N gpaw python``), so it imports nothing but the standard library, NumPy,
ASE and GPAW: it runs on any computer that has GPAW, with or without this package.

Parameters (JSON, every key optional, see :data:`DEFAULTS`):
``ecut`` plane-wave cutoff (eV); ``xc``; ``kpoint_spacing`` (1/A in units of 2 pi, the VASP/paper
convention: 0.03 means 2 pi x 0.03 1/A between k-points, Monkhorst-Pack, one point along open axes);
``smearing`` ``{'name': 'methfessel-paxton' | 'fermi-dirac' | 'marzari-vanderbilt', 'width': eV, 'order'}``;
``mixer`` ``{'beta', 'nmaxold', 'weight'}``; ``convergence`` (GPAW's dict: ``energy`` eV per valence
electron, ``density``, ``forces`` eV/A); ``maxiter``; ``setups`` (GPAW's, default ``'paw'``).

Results (``results.json``): ``energy`` (eV, the force-consistent free energy, the one the forces are the
derivative of), ``energy_zero_width`` (eV, extrapolated to zero smearing), ``forces`` ``(n, 3)`` eV/A,
``stress`` ``(3, 3)`` eV/A^3 (ASE sign: tension positive; only for cells periodic along all axes),
``converged``, ``iterations``, ``kpoint_mesh``, ``n_kpoints_irreducible``, ``wall_s``, ``gpaw_version``,
and ``error`` (a message, when the SCF did not converge or GPAW failed).
"""

from __future__ import annotations

import json
import math
import sys
import time
import traceback

import numpy as np

DEFAULTS = {
    'ecut': 400.0,
    'xc': 'PBE',
    'kpoint_spacing': 0.03,
    'smearing': {'name': 'methfessel-paxton', 'width': 0.1, 'order': 1},
    'mixer': {'beta': 0.05, 'nmaxold': 5, 'weight': 50.0},
    'convergence': {'energy': 1.0e-5, 'density': 1.0e-4},
    'maxiter': 300,
    'setups': 'paw',
}
STRUCTURE_FILE = 'structure.xyz'
PARAMETERS_FILE = 'parameters.json'
RESULTS_FILE = 'results.json'
LOG_FILE = 'gpaw.txt'


def kpoint_mesh(cell, pbc, spacing: float) -> list[int]:
    """Return the Monkhorst-Pack divisions for ``cell`` ``(3, 3)`` A: ``ceil(|b_i| / spacing)`` along
    periodic axes (``b_i`` reciprocal vectors without the 2 pi, ``spacing`` in 1/A units of 2 pi), 1 along open ones."""
    if spacing <= 0:
        raise ValueError(f'kpoint_spacing must be positive, not {spacing}')
    reciprocal = np.linalg.inv(np.asarray(cell, dtype=float)).T
    return [max(1, math.ceil(np.linalg.norm(b) / spacing - 1e-9)) if periodic else 1 for b, periodic in zip(reciprocal, pbc)]


def merged_parameters(parameters: dict) -> dict:
    """Return :data:`DEFAULTS` updated with ``parameters`` (nested dicts merged); unknown keys raise ValueError."""
    unknown = sorted(set(parameters) - set(DEFAULTS))
    if unknown:
        raise ValueError(f'unknown GPAW parameter(s) {unknown}; known: {sorted(DEFAULTS)}')
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in DEFAULTS.items()}
    for key, value in parameters.items():
        if isinstance(DEFAULTS[key], dict) and key != 'convergence':
            merged[key].update(value)
        else:
            merged[key] = value
    if merged['ecut'] <= 0 or merged['maxiter'] < 1:
        raise ValueError('ecut must be positive and maxiter at least 1')
    return merged


def calculator(p: dict, mesh: list[int], txt: str = LOG_FILE):
    """Return a GPAW plane-wave calculator for merged parameters ``p`` and the k-point ``mesh``."""
    from gpaw import GPAW, PW, Mixer

    smearing = dict(p['smearing'])
    occupations = {'name': smearing.pop('name'), 'width': smearing.pop('width'), **smearing}
    if occupations['name'] != 'methfessel-paxton':
        occupations.pop('order', None)
    return GPAW(
        mode=PW(p['ecut']),
        xc=p['xc'],
        kpts={'size': mesh, 'gamma': False},
        occupations=occupations,
        mixer=Mixer(p['mixer']['beta'], p['mixer']['nmaxold'], p['mixer']['weight']),
        convergence=p['convergence'],
        maxiter=p['maxiter'],
        setups=p['setups'],
        txt=txt,
    )


def single_point(atoms, parameters: dict, txt: str = LOG_FILE) -> dict:
    """Run GPAW on ``atoms`` (ASE) and return the results described in the module docstring."""
    import gpaw
    from gpaw import KohnShamConvergenceError

    start = time.perf_counter()
    atoms = atoms.copy()
    p = merged_parameters(parameters)
    mesh = kpoint_mesh(atoms.cell[:], atoms.pbc, p['kpoint_spacing'])
    atoms.calc = calculator(p, mesh, txt)
    result = {
        'converged': False,
        'kpoint_mesh': mesh,
        'gpaw_version': gpaw.__version__,
        'natoms': len(atoms),
    }
    try:
        result['energy_zero_width'] = atoms.get_potential_energy()
        result['energy'] = atoms.calc.get_property('free_energy', atoms)
        result['forces'] = atoms.get_forces().tolist()
        if atoms.pbc.all():
            from ase.stress import voigt_6_to_full_3x3_stress

            result['stress'] = voigt_6_to_full_3x3_stress(atoms.get_stress()).tolist()
        result['converged'] = True
    except KohnShamConvergenceError:
        result['error'] = f'SCF not converged in {p["maxiter"]} iterations'
    calc = atoms.calc
    result['iterations'] = _iterations(calc)
    result['n_kpoints_irreducible'] = len(calc.get_ibz_k_points()) if result['converged'] else None
    result['wall_s'] = time.perf_counter() - start
    return result


def _iterations(calc) -> int | None:
    try:
        return int(calc.get_number_of_iterations())
    except Exception:  # not every GPAW version exposes it; the log has it
        return None


def main() -> int:
    """Read ``structure.xyz`` (extxyz) and ``parameters.json`` here, write ``results.json``; return the exit status."""
    from ase.io import read

    try:
        with open(PARAMETERS_FILE) as handle:
            parameters = json.load(handle)
        result = single_point(read(STRUCTURE_FILE, format='extxyz'), parameters)
    except Exception as exc:  # recorded for the parser: it turns it into an exit code with this message
        result = {'converged': False, 'error': f'{type(exc).__name__}: {exc}', 'traceback': traceback.format_exc()}
    from ase.parallel import world

    if world.rank == 0:
        with open(RESULTS_FILE, 'w') as handle:
            json.dump(result, handle, indent=1)
    return 0 if result['converged'] else 1


if __name__ == '__main__':
    sys.exit(main())
