"""Loading stages of a LAMMPS run (see :mod:`.inputs`): deformation at a strain rate, indentation, crack loading.

- ``deform``: MD while the box deforms at a constant engineering strain rate (``fix deform ... erate``):
  ``mode`` ``tension`` or ``compression`` along ``axis`` (``x``, ``y``, ``z``; the other periodic axes
  held at zero pressure by a barostat when nothing is frozen), or ``shear`` of tilt ``axis`` (``xy``,
  ``xz``, ``yz``; NVT); ``strain_rate`` (1/ps, > 0), ``steps``, ``temperature`` (K), ``timestep`` (ps),
  ``tdamp``/``pdamp`` (ps), ``seed``, ``create_velocities``.
- ``indent``: MD with a spherical indenter (``fix indent``, force constant ``force_constant`` eV/A^3,
  ``radius`` A) moving down the z axis at ``velocity`` (A/ps) from a centre at ``start`` = [x, y, z] (A,
  the structure's frame); atoms below ``thermostat_below`` (z, A) are thermostatted and the rest
  integrated at constant energy (``None``: all thermostatted), frozen atoms (the slab's bottom) held;
  ``steps``, ``temperature``, ``timestep``, ``tdamp``, ``seed``.
- ``k_ramp``: crack loading that raises the stress intensity step by step: ``increments`` times, the held
  atoms (the outer shell of a :func:`.cracks.crack_slab`, ``frozen``) are displaced by the isotropic
  mode-I K field of ``k_step`` (MPa m^1/2) about the tip at ``tip`` = [x, y] (A, the structure's frame),
  evaluated at their positions when the stage starts, then ``steps`` of NVT MD let the crack respond;
  ``shear_modulus`` (GPa), ``poisson``, ``temperature``, ``timestep``, ``tdamp``, ``seed``. K rises by
  ``increments x k_step`` in all.
"""

from __future__ import annotations

import numpy as np

from .frame import lammps_frame

__all__ = ('LOADING_DEFAULTS', 'render_loading', 'validate_loading')

_MD = {'steps': 1000, 'temperature': 300.0, 'timestep': 0.001, 'tdamp': 0.1, 'seed': 12345, 'create_velocities': True}
LOADING_DEFAULTS = {
    'deform': {'mode': 'tension', 'axis': 'x', 'strain_rate': 1.0e-3, 'pdamp': 1.0, **_MD},
    'indent': {'radius': 20.0, 'velocity': 0.1, 'force_constant': 10.0, 'start': None, 'thermostat_below': None, **_MD},
    'k_ramp': {'tip': None, 'k_step': 0.1, 'increments': 5, 'shear_modulus': 160.0, 'poisson': 0.28, **_MD},
}


def validate_loading(where: str, stage: dict) -> None:
    """Raise ``ValueError`` naming the first bad entry of a complete ``deform`` or ``indent`` stage."""
    if not isinstance(stage['steps'], int) or stage['steps'] < 0:
        raise ValueError(f'{where}: steps must be a non-negative integer')
    if stage['temperature'] <= 0 or stage['timestep'] <= 0 or stage['tdamp'] <= 0:
        raise ValueError(f'{where}: temperature, timestep and tdamp must be positive')
    if not isinstance(stage['seed'], int) or not 0 < stage['seed'] < 900_000_000:
        raise ValueError(f'{where}: seed must be an integer in 1..899999999 (a LAMMPS limit)')
    if stage['type'] == 'deform':
        axes = {'tension': ('x', 'y', 'z'), 'compression': ('x', 'y', 'z'), 'shear': ('xy', 'xz', 'yz')}
        if stage['mode'] not in axes:
            raise ValueError(f"{where}: mode must be 'tension', 'compression' or 'shear'")
        if stage['axis'] not in axes[stage['mode']]:
            raise ValueError(f'{where}: axis of {stage["mode"]} must be one of {", ".join(axes[stage["mode"]])}')
        if not stage['strain_rate'] > 0 or not stage['pdamp'] > 0:
            raise ValueError(f'{where}: strain_rate (1/ps) and pdamp (ps) must be positive')
    elif stage['type'] == 'k_ramp':
        if stage['tip'] is None or len(stage['tip']) != 2:
            raise ValueError(f'{where}: tip must be the crack tip [x, y] (A)')
        if not isinstance(stage['increments'], int) or stage['increments'] < 1 or not stage['k_step'] > 0:
            raise ValueError(f'{where}: increments must be a positive integer and k_step (MPa m^1/2) positive')
        if not stage['shear_modulus'] > 0 or not 0 <= stage['poisson'] < 0.5:
            raise ValueError(f'{where}: shear_modulus (GPa) must be positive and poisson in [0, 0.5)')
    else:
        if not stage['radius'] > 0 or not stage['velocity'] > 0 or not stage['force_constant'] > 0:
            raise ValueError(f'{where}: radius, velocity and force_constant must be positive')
        if stage['start'] is None or len(stage['start']) != 3:
            raise ValueError(f'{where}: start must be the indenter centre [x, y, z] (A) at the first step')


def render_loading(stage: dict, pbc, mobile: str, cell) -> list[str]:
    """LAMMPS commands of a validated ``deform`` or ``indent`` stage; ``mobile`` is the integrated group."""
    temperature, seed = stage['temperature'], stage['seed']
    lines = [f'timestep {stage["timestep"]:g}']
    if stage['create_velocities']:
        lines.append(f'velocity {mobile} create {temperature:g} {seed} mom yes rot no dist gaussian')
    nvt = f'nvt temp {temperature:g} {temperature:g} {stage["tdamp"]:g}'
    if stage['type'] == 'deform':
        return lines + _render_deform(stage, pbc, mobile, nvt)
    if stage['type'] == 'k_ramp':
        return lines + _render_k_ramp(stage, mobile, nvt, cell)
    return lines + _render_indent(stage, mobile, nvt, cell)


def _render_deform(stage: dict, pbc, mobile: str, nvt: str) -> list[str]:
    axis, rate = stage['axis'], stage['strain_rate'] * (-1 if stage['mode'] == 'compression' else 1)
    index = 'xyz'.index(axis[-1]) if stage['mode'] == 'shear' else 'xyz'.index(axis)
    if not pbc[index] or (stage['mode'] == 'shear' and not pbc['xyz'.index(axis[0])]):
        raise ValueError(f'deform along {axis} needs the structure periodic along the axes it involves')
    remap = 'v' if stage['mode'] == 'shear' else 'x'
    lateral = [a for a in 'xyz' if a != axis and pbc['xyz'.index(a)]] if stage['mode'] != 'shear' else []
    if lateral and mobile == 'all':
        barostat = ' '.join(f'{a} 0 0 {stage["pdamp"]:g}' for a in lateral)
        integrator = f'npt temp {nvt.split("temp ")[1]} {barostat}'
    else:
        integrator = nvt
    return [
        f'fix dg_deform all deform 1 {axis} erate {rate:.10g} remap {remap}',
        f'fix dg_md {mobile} {integrator}',
        f'run {stage["steps"]}',
        'unfix dg_md',
        'unfix dg_deform',
    ]


def _in_lammps_frame(point, cell) -> np.ndarray:
    """A point (A, the structure's frame) in the frame of the LAMMPS box :mod:`.inputs` writes."""
    lammps_cell, _ = lammps_frame(cell)
    return np.linalg.solve(np.asarray(cell, dtype=float).T, np.asarray(point, dtype=float)) @ lammps_cell


def _render_k_ramp(stage: dict, mobile: str, nvt: str, cell) -> list[str]:
    from ..structures.cracks import EV_PER_A3_PER_GPA, EV_PER_A25_PER_MPA_SQRT_M

    if mobile == 'all':
        raise ValueError('k_ramp needs held atoms (frozen > 0): the outer shell that carries the K field')
    x, y, _ = _in_lammps_frame([*stage['tip'], 0.0], cell)
    scale = stage['k_step'] * EV_PER_A25_PER_MPA_SQRT_M / (2 * stage['shear_modulus'] * EV_PER_A3_PER_GPA)
    kappa = 3 - 4 * stage['poisson']
    r, t = 'v_dg_kr', 'v_dg_kt'
    lines = [
        'fix dg_kref dg_frozen store/state 0 x y',
        f'variable dg_kr atom sqrt((f_dg_kref[1]-({x:.10g}))^2+(f_dg_kref[2]-({y:.10g}))^2)',
        f'variable dg_kt atom atan2(f_dg_kref[2]-({y:.10g}),f_dg_kref[1]-({x:.10g}))',
        f'variable dg_kux atom {scale:.10g}*sqrt({r}/(2*PI))*cos({t}/2)*({kappa - 1:.10g}+2*sin({t}/2)^2)',
        f'variable dg_kuy atom {scale:.10g}*sqrt({r}/(2*PI))*sin({t}/2)*({kappa + 1:.10g}-2*cos({t}/2)^2)',
        f'fix dg_md {mobile} {nvt}',
    ]
    for _ in range(stage['increments']):
        lines += ['displace_atoms dg_frozen move v_dg_kux v_dg_kuy 0 units box', f'run {stage["steps"]}']
    return lines + ['unfix dg_md', 'unfix dg_kref', *(f'variable dg_k{v} delete' for v in ('r', 't', 'ux', 'uy'))]


def _render_indent(stage: dict, mobile: str, nvt: str, cell) -> list[str]:
    x, y, z = _in_lammps_frame(stage['start'], cell)
    lines = [
        # elaplong counts from the run's start step, so a run split into chunks (run N start S stop E, as
        # the watched MLIP MD does) moves the indenter as one run does
        f'variable dg_zind equal "{z:.10g} - {stage["velocity"]:g}*elaplong*dt"',
        f'fix dg_indent {mobile} indent {stage["force_constant"]:g} '
        f'sphere {x:.10g} {y:.10g} v_dg_zind {stage["radius"]:g} units box',
    ]
    if stage['thermostat_below'] is None:
        lines.append(f'fix dg_md {mobile} {nvt}')
        undo = ['unfix dg_md']
    else:
        lines += [
            f'region dg_bath block INF INF INF INF INF {stage["thermostat_below"]:.10g} units box',
            'group dg_bath_region region dg_bath',
            f'group dg_bath intersect dg_bath_region {mobile}',
            f'group dg_free subtract {mobile} dg_bath',
            f'fix dg_md dg_bath {nvt}',
            'fix dg_nve dg_free nve',
        ]
        undo = [
            'unfix dg_md',
            'unfix dg_nve',
            'group dg_bath delete',
            'group dg_free delete',
            'group dg_bath_region delete',
            'region dg_bath delete',
        ]
    return lines + [f'run {stage["steps"]}', 'unfix dg_indent', *undo, 'variable dg_zind delete']
