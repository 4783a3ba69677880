"""Render LAMMPS inputs (metal units): the data file of a structure and an input script made of stages.

A run is a list of *stages*, each a dict with a ``type``:

- ``minimize``: ``etol``, ``ftol`` (eV/A), ``maxiter``, ``maxeval``, ``min_style`` (``cg``),
  ``box_relax`` (``False``, ``'iso'``, ``'aniso'``, ``'tri'``, or a list of LAMMPS box components such
  as ``['y', 'z', 'yz']`` relaxed independently) and ``pressure`` (bar) for it;
- ``md``: ``ensemble`` (``nve``, ``nvt``, ``npt``), ``temperature`` (K), ``steps``, ``timestep`` (ps),
  ``seed``, ``pressure`` (bar, ``npt``), ``tdamp``/``pdamp`` (ps), ``create_velocities`` (bool);
- ``gcmc``: NVT MD of the mobile atoms with grand canonical Monte Carlo (``fix gcmc``, full energy)
  inserting, deleting and moving mobile atoms of LAMMPS type ``insert_type``; no atom it inserts may stay
  inside ``region`` (it is removed from it every ``every`` steps and at the end): ``steps``, ``every``,
  ``exchanges`` and ``moves`` per call, ``temperature`` (K), ``mu`` (eV), ``displace`` (A), ``seed``,
  ``timestep`` (ps), ``tdamp`` (ps), ``max_mobile`` (no insertion beyond this many mobile atoms; None:
  no limit). ``region`` is ``{'centre': [x, y, z], 'radius': R,
  'periodic_axes': [...]}`` in the structure's frame (A): a sphere, or a cylinder/slab around periodic
  cell axes, which must then be the first cell vector(s) (LAMMPS x, or x and y).
- ``fill``: while a hole is left outside ``region`` (as for ``gcmc``) where no atom is closer than
  ``distance`` (A), deposit an atom of type ``insert_type`` there (``fix deposit ... near``, up to
  ``attempts`` random points) and minimise the mobile atoms (``ftol``, ``maxiter``); at most
  ``max_insertions`` atoms, never beyond ``max_atoms`` in all, ``seed`` for the random points.

- ``deform`` and ``indent``: loadings, see :mod:`.loadings`.

``frozen: N`` holds the first N atoms exactly in place in every stage (not integrated, zero force in
minimisations, put back where they started after each box relaxation, never moved or deleted by Monte
Carlo): they get their own atom types, see :func:`type_elements`. ``keep_out`` (a region as for ``gcmc``,
a sphere or a cylinder) then pushes the mobile atoms out of it and its periodic images in every stage,
with a stiff repulsive wall (``fix indent``) whose images follow the box. No stage at all means a
single point (``run 0``).
"""

from __future__ import annotations

import copy
import itertools

import numpy as np

from .frame import fractional_in_cell, lammps_frame
from .loadings import LOADING_DEFAULTS, render_loading, validate_loading

__all__ = (
    'FINAL_DUMP',
    'atom_types',
    'FINAL_JSON',
    'LOG_FILE',
    'TRAJECTORY_DUMP',
    'render_data_file',
    'render_input',
    'render_run',
    'type_elements',
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
    'gcmc': {
        'steps': 1000,
        'every': 10,
        'exchanges': 10,
        'moves': 10,
        'insert_type': 1,
        'temperature': 100.0,
        'mu': 0.1,
        'displace': 0.1,
        'seed': 12345,
        'timestep': 0.001,
        'tdamp': 0.1,
        'region': None,
        'max_mobile': None,
    },
    'fill': {
        'distance': None,
        'insert_type': 1,
        'max_atoms': 1000000,
        'max_insertions': 30,
        'attempts': 100000,
        'seed': 12345,
        'ftol': 1.0e-3,
        'maxiter': 200,
        'region': None,
    },
    **LOADING_DEFAULTS,
}
_RUN_DEFAULTS = {'stages': [], 'thermo_every': 10, 'dump_every': 0, 'frozen': 0, 'keep_out': None, 'retrieve_atoms': True}
_KEEP_OUT_STIFFNESS = 100.0  # eV/A^3: 1 eV/A back at 0.1 A inside, 9 eV/A at 0.3 A
_BOX_AXES = ('x', 'y', 'z', 'xy', 'xz', 'yz')
_BOX_ROUNDS = 3  # box relaxations around frozen atoms, each followed by putting them back


def validate_parameters(parameters: dict) -> dict:
    """Return ``parameters`` completed with defaults; raise ``ValueError`` naming the first bad entry."""
    unknown = set(parameters) - set(_RUN_DEFAULTS)
    if unknown:
        raise ValueError(f'unknown LAMMPS parameter(s): {", ".join(sorted(unknown))}; known: {", ".join(_RUN_DEFAULTS)}')
    result = {**copy.deepcopy(_RUN_DEFAULTS), **copy.deepcopy(parameters)}
    for key in ('thermo_every', 'dump_every', 'frozen'):
        if not isinstance(result[key], int) or result[key] < 0:
            raise ValueError(f'{key} must be a non-negative integer, got {result[key]!r}')
    if result['thermo_every'] == 0:
        raise ValueError('thermo_every must be at least 1')
    if not isinstance(result['stages'], list):
        raise ValueError('stages must be a list of dicts')
    if not isinstance(result['retrieve_atoms'], bool):
        raise ValueError(f'retrieve_atoms must be true or false, got {result["retrieve_atoms"]!r}')
    if result['keep_out'] is not None:
        if not result['frozen']:
            raise ValueError('keep_out keeps the mobile atoms out of a region: it needs frozen atoms')
        _validate_region('keep_out', result['keep_out'])
        if result['keep_out']['periodic_axes'] not in ([], [0]):
            raise ValueError('keep_out: a sphere or a cylinder along LAMMPS x (periodic_axes [] or [0])')
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
        relax = full['box_relax']
        if isinstance(relax, list):
            if not relax or len(set(relax)) != len(relax) or not set(relax) <= set(_BOX_AXES):
                raise ValueError(f'{where}: a box_relax list names distinct box components among x, y, z, xy, xz, yz')
        elif relax not in (False, 'iso', 'aniso', 'tri'):
            raise ValueError(f"{where}: box_relax must be false, 'iso', 'aniso', 'tri' or a list of axes")
        for key in ('maxiter', 'maxeval'):
            if not isinstance(full[key], int) or full[key] < 1:
                raise ValueError(f'{where}: {key} must be a positive integer')
        if full['etol'] < 0 or full['ftol'] < 0:
            raise ValueError(f'{where}: etol and ftol must be >= 0')
    elif full['type'] == 'gcmc':
        _validate_gcmc(where, full)
    elif full['type'] == 'fill':
        _validate_fill(where, full)
    elif full['type'] in LOADING_DEFAULTS:
        validate_loading(where, full)
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


def _validate_gcmc(where: str, stage: dict) -> None:
    for key in ('steps', 'every', 'exchanges', 'moves', 'insert_type'):
        if not isinstance(stage[key], int) or stage[key] < (0 if key in ('exchanges', 'moves') else 1):
            raise ValueError(f'{where}: {key} must be a positive integer')
    if stage['temperature'] <= 0 or stage['timestep'] <= 0 or stage['tdamp'] <= 0 or stage['displace'] < 0:
        raise ValueError(f'{where}: temperature, timestep and tdamp must be positive, displace non-negative')
    if not isinstance(stage['seed'], int) or not 0 < stage['seed'] < 900_000_000:
        raise ValueError(f'{where}: seed must be an integer in 1..899999999 (a LAMMPS limit)')
    if stage['max_mobile'] is not None and (not isinstance(stage['max_mobile'], int) or stage['max_mobile'] < 0):
        raise ValueError(f'{where}: max_mobile must be a non-negative integer')
    _validate_region(where, stage['region'])


def _validate_fill(where: str, stage: dict) -> None:
    for key in ('insert_type', 'max_atoms', 'max_insertions', 'attempts', 'maxiter'):
        if not isinstance(stage[key], int) or stage[key] < 1:
            raise ValueError(f'{where}: {key} must be a positive integer')
    if not isinstance(stage['distance'], (int, float)) or not stage['distance'] > 0 or not stage['ftol'] > 0:
        raise ValueError(f'{where}: distance (A) and ftol must be positive')
    if not isinstance(stage['seed'], int) or not 0 < stage['seed'] < 800_000_000:
        raise ValueError(f'{where}: seed must be an integer in 1..799999999')
    _validate_region(where, stage['region'])


def _validate_region(where: str, region) -> None:
    if not isinstance(region, dict) or set(region) != {'centre', 'radius', 'periodic_axes'}:
        raise ValueError(f'{where}: region must be a dict with centre, radius and periodic_axes')
    if len(region['centre']) != 3 or not region['radius'] > 0:
        raise ValueError(f'{where}: region centre must be 3 numbers (A) and radius positive')
    if list(region['periodic_axes']) not in ([], [0], [0, 1]):
        raise ValueError(
            f'{where}: region periodic_axes must be [], [0] or [0, 1]: put the periodic cell vectors first '
            '(a cylinder runs along LAMMPS x, a slab spans x and y)'
        )


def render_data_file(positions, cell, pbc, type_ids, masses, unwrapped: int = 0) -> str:
    """Return a LAMMPS data file (``atom_style atomic``) text.

    :param positions: ``(n, 3)`` Cartesian positions (A) in the original frame.
    :param cell: ``(3, 3)`` cell rows (A).
    :param pbc: three booleans.
    :param type_ids: ``(n,)`` LAMMPS types, 1-based.
    :param masses: mass (amu) of each type, in type order.
    :param unwrapped: the first ``unwrapped`` atoms are written where they are, not wrapped into the
        cell (LAMMPS wraps them and keeps their image flags, so ``xu yu zu`` give them back).
    """
    lammps_cell, _ = lammps_frame(cell)
    coordinates = fractional_in_cell(positions, cell, pbc) @ lammps_cell
    if unwrapped:
        exact = np.linalg.solve(np.asarray(cell, dtype=float).T, np.asarray(positions, dtype=float)[:unwrapped].T).T
        coordinates[:unwrapped] = exact @ lammps_cell
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
        *(f'{i} {t} {x:.16g} {y:.16g} {z:.16g}' for i, (t, (x, y, z)) in enumerate(zip(type_ids, coordinates), start=1)),
        '',
    ]
    return '\n'.join(lines)


_THERMO = 'step temp pe ke etotal press pxx pyy pzz pxy pxz pyz vol lx ly lz xy xz yz'
_FINAL_KEYS = ('pe', 'ke', 'press', 'pxx', 'pyy', 'pzz', 'pxy', 'pxz', 'pyz', 'vol', 'lx', 'ly', 'lz', 'xy', 'xz', 'yz')


def render_input(
    parameters: dict, pair_lines: list[str], pbc, data_file: str = 'structure.data', cell=None, final_output: bool = True
) -> str:
    """Return the LAMMPS input script for validated ``parameters`` and the potential's ``pair_lines``.

    ``cell`` (``(3, 3)`` rows, A) is needed to place the region of a ``gcmc`` stage. With ``final_output``
    the script ends by writing the final structure, forces and energies (``FINAL_DUMP``, ``FINAL_JSON``).
    """
    boundary = ' '.join('p' if periodic else 's' for periodic in pbc)
    frozen = parameters['frozen']
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
    if frozen:
        lines += [
            f'group dg_frozen id 1:{frozen}',
            'group dg_mobile subtract all dg_frozen',
            'fix dg_hold dg_frozen setforce 0.0 0.0 0.0',
        ]
    if parameters['keep_out'] is not None:
        lines += _render_keep_out(parameters['keep_out'], cell)
    stages = parameters['stages'] or [None]
    # snapshots start with the first stage that is not a minimisation: a structure as built (its
    # overlaps, its unrelaxed core) is not a state of the material and must not be sampled
    dumped_from = next((i for i, stage in enumerate(stages) if stage and stage['type'] != 'minimize'), 0)
    mobile = 'dg_mobile' if frozen else 'all'
    for index, stage in enumerate(stages):
        if parameters['dump_every'] and index == dumped_from:
            lines += [
                f'dump dg_traj all custom {parameters["dump_every"]} {TRAJECTORY_DUMP} id type x y z c_dg_pe',
                'dump_modify dg_traj sort id format float %.10g',
            ]
        lines.append(f'# stage {index}: {stage["type"] if stage else "single point"}')
        lines += _render_stage(stage, list(pbc), mobile, cell, index)
    if not final_output:
        return '\n'.join(lines)
    json_fields = ', '.join(f'"{key}": $({key}:%.16g)' for key in _FINAL_KEYS)
    lines += [
        f'write_dump all custom {FINAL_DUMP} id type x y z fx fy fz c_dg_pe modify sort id format float %.16g',
        f'print """{{{json_fields}, "natoms": $(atoms), "step": $(step)}}""" file {FINAL_JSON} screen no',
        '',
    ]
    return '\n'.join(lines)


def _render_stage(stage: dict | None, pbc, mobile: str, cell, index: int = 0) -> list[str]:
    fully_periodic = all(pbc)
    if stage is None:
        return ['run 0']
    if stage['type'] in LOADING_DEFAULTS:
        return render_loading(stage, pbc, mobile, cell)
    if stage['type'] == 'minimize':
        return _render_minimize(stage, fully_periodic, mobile)
    if stage['type'] == 'gcmc':
        return _render_gcmc(stage, mobile, cell)
    if stage['type'] == 'fill':
        return _render_fill(stage, mobile, cell, index)
    temperature, seed = stage['temperature'], stage['seed']
    lines = [f'timestep {stage["timestep"]:g}']
    if stage['create_velocities'] and temperature > 0:
        rot = 'no' if fully_periodic else 'yes'
        lines.append(f'velocity {mobile} create {temperature:g} {seed} mom yes rot {rot} dist gaussian')
    thermostat = {
        'nve': 'nve',
        'nvt': f'nvt temp {temperature:g} {temperature:g} {stage["tdamp"]:g}',
        'npt': f'npt temp {temperature:g} {temperature:g} {stage["tdamp"]:g} '
        f'iso {stage["pressure"]:g} {stage["pressure"]:g} {stage["pdamp"]:g}',
    }[stage['ensemble']]
    if stage['ensemble'] == 'npt' and not fully_periodic:
        raise ValueError('npt needs a structure periodic along all three axes')
    if stage['ensemble'] == 'npt' and mobile != 'all':
        raise ValueError('npt would move the frozen atoms: relax the box in a minimize stage instead')
    return lines + [f'fix dg_md {mobile} {thermostat}', f'run {stage["steps"]}', 'unfix dg_md']


def _render_minimize(stage: dict, fully_periodic: bool, mobile: str) -> list[str]:
    relax = stage['box_relax']
    lines = []
    if relax:
        if not fully_periodic:
            raise ValueError('box_relax needs a structure periodic along all three axes')
        pressure = f'{stage["pressure"]:g}'
        target = (
            ' '.join(f'{axis} {pressure}' for axis in relax) + ' couple none' if isinstance(relax, list) else f'{relax} {pressure}'
        )
        lines.append(f'fix dg_box all box/relax {target} vmax 0.001')
    minimize = [
        f'min_style {stage["min_style"]}',
        f'minimize {stage["etol"]:g} {stage["ftol"]:g} {stage["maxiter"]} {stage["maxeval"]}',
    ]
    if not relax:
        return lines + minimize
    if mobile == 'all':
        return lines + minimize + ['unfix dg_box']
    # The box gradient is the virial of every atom, so the box relaxes with every atom following it
    # (frozen ones too: anything else makes the gradient wrong and the line search stall). After each
    # relaxation every frozen atom goes back to its unwrapped start position (the box keeps its centre);
    # three rounds shrink the change of the cell, and a last minimisation at the final box settles the rest.
    reset = [
        'unfix dg_box',
        'set group dg_frozen x v_dg_x0 y v_dg_y0 z v_dg_z0 image 0 0 0',  # x is the unwrapped position
    ]
    return [
        'fix dg_origin dg_frozen store/state 0 xu yu zu',
        *(f'variable dg_{c}0 atom f_dg_origin[{k}]' for k, c in enumerate('xyz', start=1)),
        *((lines + minimize + reset) * _BOX_ROUNDS),
        minimize[1],
        'unfix dg_origin',
        *(f'variable dg_{c}0 delete' for c in 'xyz'),
    ]


def _region_images(prefix: str, region: dict, cell, side: str) -> list[str]:
    """``region`` commands for the stage ``region`` and its periodic images (``side`` ``in`` or ``out``),
    named ``prefix_k``: the centre where it starts (LAMMPS frame), the images one box vector away, each
    evaluated from the box when the command runs (a relaxed box moves them)."""
    if cell is None:
        raise ValueError('a region of a stage needs the cell to place it')
    lammps_cell, _ = lammps_frame(cell)
    x, y, z = np.linalg.solve(np.asarray(cell, dtype=float).T, np.asarray(region['centre'], dtype=float)) @ lammps_cell
    radius = f'{float(region["radius"]):.10g}'
    periodic = len(region['periodic_axes'])
    lines = []
    for k, (i, j, m) in enumerate(itertools.product(*[(0,) if axis < periodic else (-1, 0, 1) for axis in range(3)])):
        cx = f'$({x:.12g}{i:+d}*lx{j:+d}*xy{m:+d}*xz)'
        cy = f'$({y:.12g}{j:+d}*ly{m:+d}*yz)'
        cz = f'$({z:.12g}{m:+d}*lz)'
        shape = {
            0: f'sphere {cx} {cy} {cz} {radius}',
            1: f'cylinder x {cy} {cz} {radius} INF INF',
            2: f'block INF INF INF INF $({z:.12g}{m:+d}*lz-{radius}) $({z:.12g}{m:+d}*lz+{radius})',
        }[periodic]
        lines.append(f'region {prefix}_{k} {shape} side {side} units box')
    return lines


def _render_keep_out(region: dict, cell) -> list[str]:
    """A repulsive wall (``fix indent ... side out``) on the mobile atoms at the region and each of its
    periodic images, their centres variables of the box so that they follow a relaxing box."""
    if cell is None:
        raise ValueError('keep_out needs the cell to place its region')
    lammps_cell, _ = lammps_frame(cell)
    x, y, z = np.linalg.solve(np.asarray(cell, dtype=float).T, np.asarray(region['centre'], dtype=float)) @ lammps_cell
    radius = float(region['radius'])
    cylinder = bool(region['periodic_axes'])
    lines = []
    for k, (i, j, m) in enumerate(itertools.product((0,) if cylinder else (-1, 0, 1), (-1, 0, 1), (-1, 0, 1))):
        lines += [
            f'variable dg_wall{k}x equal {x:.12g}{i:+d}*lx{j:+d}*xy{m:+d}*xz',
            f'variable dg_wall{k}y equal {y:.12g}{j:+d}*ly{m:+d}*yz',
            f'variable dg_wall{k}z equal {z:.12g}{m:+d}*lz',
        ]
        shape = (
            f'cylinder x v_dg_wall{k}y v_dg_wall{k}z {radius:.10g}'
            if cylinder
            else f'sphere v_dg_wall{k}x v_dg_wall{k}y v_dg_wall{k}z {radius:.10g}'
        )
        lines += [
            f'fix dg_wall{k} dg_mobile indent {_KEEP_OUT_STIFFNESS:g} {shape} side out units box',
            f'fix_modify dg_wall{k} energy yes',
        ]
    return lines


def _render_gcmc(stage: dict, mobile: str, cell) -> list[str]:
    """NVT MD of the mobile atoms with ``fix gcmc``; atoms it inserts are kept out of the stage's region.

    ``fix gcmc`` accepts only a region inside the untilted box, which would leave parts of a triclinic box
    without insertions; so GCMC acts everywhere on the mobile type and ``fix evaporate`` removes the atoms
    it inserted from the kept region instead (the frozen atoms have their own type and are never touched;
    atoms that were there before may relax across the region's edge). The kept region is the union of the
    region and its periodic images, so that it holds wherever the box wraps it.
    """
    images = _region_images('dg_kept', stage['region'], cell, 'in')
    names = [line.split()[1] for line in images]
    temperature, seed, every = stage['temperature'], stage['seed'], stage['every']
    group = (f' group {mobile}' if mobile != 'all' else '') + ' group dg_inserted'
    if stage['max_mobile'] is not None:
        group += f' max {stage["max_mobile"]}'
    return [
        f'timestep {stage["timestep"]:g}',
        *images,
        f'region dg_kept union {len(names)} {" ".join(names)}',
        'group dg_inserted empty',
        # the box may start with no mobile atom at all (nothing seeded): GCMC then fills it from empty
        f'if "$(count({mobile})) > 0" then "velocity {mobile} create {temperature:g} {seed} mom yes rot no dist gaussian"',
        f'compute dg_temp {mobile} temp',
        'compute_modify dg_temp dynamic/dof yes',
        f'fix dg_md {mobile} nvt temp {temperature:g} {temperature:g} {stage["tdamp"]:g}',
        'fix_modify dg_md temp dg_temp',
        f'fix dg_gcmc {mobile} gcmc {every} {stage["exchanges"]} {stage["moves"]} {stage["insert_type"]} {seed + 1} '
        f'{temperature:g} {stage["mu"]:g} {stage["displace"]:g} full_energy{group}',
        f'fix dg_keep_out dg_inserted evaporate {every} 1000000 dg_kept {seed + 2}',
        f'run {stage["steps"]}',
        'unfix dg_keep_out',
        'unfix dg_gcmc',
        'unfix dg_md',
        'uncompute dg_temp',
        'group dg_inside region dg_kept',
        'group dg_intruders intersect dg_inside dg_inserted',
        'delete_atoms group dg_intruders compress no',
        'group dg_intruders delete',
        'group dg_inside delete',
        'group dg_inserted delete',
        'region dg_kept delete',
        *(f'region {name} delete' for name in names),
    ]


def _render_fill(stage: dict, mobile: str, cell, index: int) -> list[str]:
    """Deposit atoms, one at a time, in the holes left outside the stage's region (and its images); a
    loop of the input script that ends when no hole is left, after ``max_insertions`` atoms, or when the
    structure holds ``max_atoms``."""
    images = _region_images(f'dg_out{index}', stage['region'], cell, 'out')
    names = [line.split()[1] for line in images]
    loop, done = f'dg_fill{index}', f'dg_fill{index}_done'
    full = f'if "$(atoms) >= {stage["max_atoms"]}" then "jump SELF {done}"'
    return [
        'region dg_box prism $(xlo) $(xhi) $(ylo) $(yhi) $(zlo) $(zhi) $(xy) $(xz) $(yz) units box',
        *images,
        f'region dg_fillable intersect {len(names) + 1} dg_box {" ".join(names)}',
        f'variable {loop} loop {stage["max_insertions"]}',
        f'label {loop}_next',
        full,
        'variable dg_before equal $(atoms)',
        f'fix dg_deposit {mobile} deposit 1 {stage["insert_type"]} 1 $({stage["seed"]}+v_{loop}) region dg_fillable '
        f'near {stage["distance"]:.10g} attempt {stage["attempts"]} units box',
        'run 1 post no',
        'unfix dg_deposit',
        f'if "$(atoms) == ${{dg_before}}" then "jump SELF {done}"',
        f'minimize 0 {stage["ftol"]:g} {stage["maxiter"]} {10 * stage["maxiter"]}',
        f'next {loop}',
        f'jump SELF {loop}_next',
        f'label {done}',
        f'variable {loop} delete',
        'variable dg_before delete',
        'region dg_fillable delete',
        'region dg_box delete',
        *(f'region {name} delete' for name in names),
    ]


def type_elements(species, frozen: int) -> list[str]:
    """Return the element of each LAMMPS atom type: ``species`` in order, and with frozen atoms a
    second copy of them (frozen atoms of ``species[k]`` have type ``len(species) + k + 1``)."""
    return list(species) * (2 if frozen else 1)


def atom_types(symbols, species, frozen: int) -> list[int]:
    """Return the 1-based LAMMPS type of each atom (see :func:`type_elements`)."""
    index = {element: k for k, element in enumerate(species, start=1)}
    return [index[s] + (len(species) if i < frozen else 0) for i, s in enumerate(symbols)]


def render_run(
    atoms, species, pair_commands, parameters: dict, data_file: str = 'structure.data', final_output: bool = True
) -> tuple[str, str]:
    """Return ``(data file, input script)`` for ASE ``atoms`` with validated ``parameters`` (``final_output``:
    see :func:`render_input`).

    :param species: the potential's elements (type order); frozen atoms get copies (:func:`type_elements`).
    :param pair_commands: function of the element of each type -> ``pair_style``/``pair_coeff`` lines.
    """
    from ase.data import atomic_masses, atomic_numbers

    frozen = parameters['frozen']
    elements = type_elements(species, frozen)
    data = render_data_file(
        atoms.positions,
        atoms.cell.array,
        atoms.pbc,
        atom_types(atoms.get_chemical_symbols(), species, frozen),
        [atomic_masses[atomic_numbers[element]] for element in elements],
        unwrapped=frozen,
    )
    return data, render_input(parameters, pair_commands(elements), atoms.pbc, data_file, atoms.cell.array, final_output)
