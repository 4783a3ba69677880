"""Render LAMMPS inputs (metal units): the data file of a structure and an input script made of stages.

A run is a list of *stages*, each a dict with a ``type``:

- ``minimize``: ``etol``, ``ftol`` (eV/A), ``maxiter``, ``maxeval``, ``min_style`` (``cg``),
  ``box_relax`` (``False``, ``'iso'``, ``'aniso'`` or ``'tri'``) and ``pressure`` (bar) for it;
- ``md``: ``ensemble`` (``nve``, ``nvt``, ``npt``), ``temperature`` (K), ``steps``, ``timestep`` (ps),
  ``seed``, ``pressure`` (bar, ``npt``), ``tdamp``/``pdamp`` (ps), ``create_velocities`` (bool).

No stage at all means a single-point evaluation (``run 0``).
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = (
    'FINAL_DUMP',
    'FINAL_JSON',
    'LOG_FILE',
    'TRAJECTORY_DUMP',
    'fractional_in_cell',
    'lammps_frame',
    'render_data_file',
    'render_input',
    'validate_parameters',
)

LOG_FILE = 'log.lammps'
FINAL_DUMP = 'final.dump'
FINAL_JSON = 'final.json'
TRAJECTORY_DUMP = 'trajectory.dump'

_STAGE_DEFAULTS = {
    'minimize': {
        'etol': 0.0,
        'ftol': 1.0e-8,
        'maxiter': 10000,
        'maxeval': 100000,
        'min_style': 'cg',
        'box_relax': False,
        'pressure': 0.0,
    },
    'md': {
        'ensemble': 'nvt',
        'temperature': 300.0,
        'steps': 1000,
        'timestep': 0.001,
        'seed': 12345,
        'pressure': 0.0,
        'tdamp': 0.1,
        'pdamp': 1.0,
        'create_velocities': True,
    },
}
_RUN_DEFAULTS = {'stages': [], 'thermo_every': 10, 'dump_every': 0}


def validate_parameters(parameters: dict) -> dict:
    """Return ``parameters`` completed with defaults; raise ``ValueError`` naming the first bad entry."""
    unknown = set(parameters) - set(_RUN_DEFAULTS)
    if unknown:
        raise ValueError(f'unknown LAMMPS parameter(s): {", ".join(sorted(unknown))}; known: {", ".join(_RUN_DEFAULTS)}')
    result = {**copy.deepcopy(_RUN_DEFAULTS), **copy.deepcopy(parameters)}
    for key in ('thermo_every', 'dump_every'):
        if not isinstance(result[key], int) or result[key] < 0:
            raise ValueError(f'{key} must be a non-negative integer, got {result[key]!r}')
    if result['thermo_every'] == 0:
        raise ValueError('thermo_every must be at least 1')
    if not isinstance(result['stages'], list):
        raise ValueError('stages must be a list of dicts')
    result['stages'] = [_validate_stage(i, stage) for i, stage in enumerate(result['stages'])]
    return result


def _validate_stage(index: int, stage: dict) -> dict:
    where = f'stage {index}'
    if not isinstance(stage, dict) or stage.get('type') not in _STAGE_DEFAULTS:
        raise ValueError(f'{where}: needs a type, one of {", ".join(_STAGE_DEFAULTS)}')
    defaults = _STAGE_DEFAULTS[stage['type']]
    unknown = set(stage) - set(defaults) - {'type'}
    if unknown:
        raise ValueError(f'{where} ({stage["type"]}): unknown key(s) {", ".join(sorted(unknown))}')
    full = {'type': stage['type'], **defaults, **stage}
    if full['type'] == 'minimize':
        if full['box_relax'] not in (False, 'iso', 'aniso', 'tri'):
            raise ValueError(f"{where}: box_relax must be false, 'iso', 'aniso' or 'tri'")
        for key in ('maxiter', 'maxeval'):
            if not isinstance(full[key], int) or full[key] < 1:
                raise ValueError(f'{where}: {key} must be a positive integer')
        if full['etol'] < 0 or full['ftol'] < 0:
            raise ValueError(f'{where}: etol and ftol must be >= 0')
    else:
        if full['ensemble'] not in ('nve', 'nvt', 'npt'):
            raise ValueError(f"{where}: ensemble must be 'nve', 'nvt' or 'npt'")
        if not isinstance(full['steps'], int) or full['steps'] < 0:
            raise ValueError(f'{where}: steps must be a non-negative integer')
        if full['timestep'] <= 0 or full['tdamp'] <= 0 or full['pdamp'] <= 0:
            raise ValueError(f'{where}: timestep, tdamp and pdamp must be positive (ps)')
        if full['temperature'] <= 0 and full['ensemble'] != 'nve':
            raise ValueError(f'{where}: temperature must be positive (K)')
        if not isinstance(full['seed'], int) or not 0 < full['seed'] < 900_000_000:
            raise ValueError(f'{where}: seed must be an integer in 1..899999999 (a LAMMPS limit)')
    return full


def lammps_frame(cell) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(lammps_cell, rotation)`` for a cell given as rows ``(3, 3)`` in A.

    ``lammps_cell`` is lower triangular with a positive diagonal (LAMMPS' restricted triclinic box) and
    ``cell @ rotation == lammps_cell``; positions map the same way and vectors go back with ``rotation.T``.
    """
    cell = np.asarray(cell, dtype=float)
    if abs(np.linalg.det(cell)) < 1e-8:
        raise ValueError('the cell has no volume: give a 3D cell (also along non-periodic axes)')
    if np.linalg.det(cell) < 0:
        raise ValueError('the cell is left-handed: LAMMPS needs a right-handed cell (swap two cell vectors)')
    q, r = np.linalg.qr(cell.T)
    signs = np.sign(np.diag(r))
    q = q * signs
    lammps_cell = (r * signs[:, None]).T
    lammps_cell[np.triu_indices(3, 1)] = 0.0
    return lammps_cell, q


def fractional_in_cell(positions, cell, pbc) -> np.ndarray:
    """Return ``(n, 3)`` fractional coordinates, wrapped into [0, 1) along periodic axes.

    :raises ValueError: if the cell has no volume, is left-handed, or an atom lies outside it along a
        non-periodic axis.
    """
    lammps_frame(cell)
    fractional = np.linalg.solve(np.asarray(cell, dtype=float).T, np.asarray(positions, dtype=float).reshape(-1, 3).T).T
    periodic = np.asarray(pbc, dtype=bool)
    fractional[:, periodic] %= 1.0
    outside = (fractional[:, ~periodic] < -1e-9) | (fractional[:, ~periodic] >= 1.0 + 1e-9)
    if outside.any():
        raise ValueError('atoms lie outside the cell along a non-periodic axis: enlarge the cell to contain them')
    return fractional


def render_data_file(positions, cell, pbc, type_ids, masses) -> str:
    """Return a LAMMPS data file (``atom_style atomic``) text.

    :param positions: ``(n, 3)`` Cartesian positions (A) in the original frame.
    :param cell: ``(3, 3)`` cell rows (A).
    :param pbc: three booleans.
    :param type_ids: ``(n,)`` LAMMPS types, 1-based.
    :param masses: mass (amu) of each type, in type order.
    """
    lammps_cell, _ = lammps_frame(cell)
    coordinates = fractional_in_cell(positions, cell, pbc) @ lammps_cell
    (lx, _, _), (xy, ly, _), (xz, yz, lz) = lammps_cell
    lines = [
        'LAMMPS data file written by aiida-defectgenome',
        '',
        f'{len(coordinates)} atoms',
        f'{len(masses)} atom types',
        '',
        f'0.0 {lx:.16g} xlo xhi',
        f'0.0 {ly:.16g} ylo yhi',
        f'0.0 {lz:.16g} zlo zhi',
        f'{xy:.16g} {xz:.16g} {yz:.16g} xy xz yz',
        '',
        'Masses',
        '',
        *(f'{i} {mass:.8g}' for i, mass in enumerate(masses, start=1)),
        '',
        'Atoms # atomic',
        '',
        *(
            f'{i} {t} {x:.16g} {y:.16g} {z:.16g}'
            for i, (t, (x, y, z)) in enumerate(zip(type_ids, coordinates), start=1)
        ),
        '',
    ]
    return '\n'.join(lines)


_THERMO = 'step temp pe ke etotal press pxx pyy pzz pxy pxz pyz vol lx ly lz xy xz yz'
_FINAL_KEYS = ('pe', 'ke', 'press', 'pxx', 'pyy', 'pzz', 'pxy', 'pxz', 'pyz', 'vol', 'lx', 'ly', 'lz', 'xy', 'xz', 'yz')


def render_input(parameters: dict, pair_lines: list[str], pbc, data_file: str = 'structure.data') -> str:
    """Return the LAMMPS input script for validated ``parameters`` and the potential's ``pair_lines``."""
    boundary = ' '.join('p' if periodic else 's' for periodic in pbc)
    lines = [
        'units metal',
        'atom_style atomic',
        'atom_modify map array',
        f'boundary {boundary}',
        f'read_data {data_file}',
        *pair_lines,
        'neighbor 2.0 bin',
        'neigh_modify every 1 delay 0 check yes',
        'compute dg_pe all pe/atom',
        f'thermo_style custom {_THERMO}',
        'thermo_modify norm no lost error flush yes format float %.12g',
        f'thermo {parameters["thermo_every"]}',
    ]
    if parameters['dump_every']:
        lines += [
            f'dump dg_traj all custom {parameters["dump_every"]} {TRAJECTORY_DUMP} id type x y z c_dg_pe',
            'dump_modify dg_traj sort id format float %.10g',
        ]
    stages = parameters['stages'] or [None]
    for index, stage in enumerate(stages):
        lines.append(f'# stage {index}: {stage["type"] if stage else "single point"}')
        lines += _render_stage(stage, all(pbc))
    json_fields = ', '.join(f'"{key}": $({key}:%.16g)' for key in _FINAL_KEYS)
    lines += [
        f'write_dump all custom {FINAL_DUMP} id type x y z fx fy fz c_dg_pe modify sort id format float %.16g',
        f'print """{{{json_fields}, "natoms": $(atoms), "step": $(step)}}""" file {FINAL_JSON} screen no',
        '',
    ]
    return '\n'.join(lines)


def _render_stage(stage: dict | None, fully_periodic: bool) -> list[str]:
    if stage is None:
        return ['run 0']
    if stage['type'] == 'minimize':
        lines = []
        if stage['box_relax']:
            if not fully_periodic:
                raise ValueError('box_relax needs a structure periodic along all three axes')
            lines.append(f'fix dg_box all box/relax {stage["box_relax"]} {stage["pressure"]:g} vmax 0.001')
        lines += [
            f'min_style {stage["min_style"]}',
            f'minimize {stage["etol"]:g} {stage["ftol"]:g} {stage["maxiter"]} {stage["maxeval"]}',
        ]
        if stage['box_relax']:
            lines.append('unfix dg_box')
        return lines
    temperature, seed = stage['temperature'], stage['seed']
    lines = [f'timestep {stage["timestep"]:g}']
    if stage['create_velocities'] and temperature > 0:
        rot = 'no' if fully_periodic else 'yes'
        lines.append(f'velocity all create {temperature:g} {seed} mom yes rot {rot} dist gaussian')
    thermostat = {
        'nve': 'nve',
        'nvt': f'nvt temp {temperature:g} {temperature:g} {stage["tdamp"]:g}',
        'npt': f'npt temp {temperature:g} {temperature:g} {stage["tdamp"]:g} '
        f'iso {stage["pressure"]:g} {stage["pressure"]:g} {stage["pdamp"]:g}',
    }[stage['ensemble']]
    if stage['ensemble'] == 'npt' and not fully_periodic:
        raise ValueError('npt needs a structure periodic along all three axes')
    return lines + [f'fix dg_md all {thermostat}', f'run {stage["steps"]}', 'unfix dg_md']
