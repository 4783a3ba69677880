"""The runs of an EIP-sampling campaign: each scenario's starting structure and its LAMMPS loading stages.

Scenario names (the ``sample`` command's): ``polycrystal`` (anneal at each temperature), ``tension``,
``compression``, ``shear`` (a polycrystal deformed at a strain rate), ``loop`` (<100> and 1/2<111>
interstitial loops, a 1/2<111> glide loop), ``indentation``, ``crack`` (the four bcc systems, mode I K raised
step by step from ``k`` by ``increments`` of ``k_step``),
``dislocation`` (screw, edge, mixed); ``all`` for every one. Sizes and run lengths come from a protocol
(``protocols/eip_sampling.yaml``). Atoms to hold (a dislocation's or crack's outer shell, an indented
slab's bottom) come first and the run freezes them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from ase import Atoms

from ..structures.cracks import BCC_CRACK_SYSTEMS, crack_slab
from ..structures.dislocations import BCC_CHARACTERS, straight_dislocation
from ..structures.loops import glide_loop, interstitial_loop
from ..structures.scenarios import indentation_slab, oriented_crystal, polycrystal

__all__ = ('SCENARIOS', 'SampledRun', 'plan_runs', 'scenario_names')

SCENARIOS = ('polycrystal', 'tension', 'compression', 'shear', 'loop', 'indentation', 'crack', 'dislocation')
_RELAX = {'type': 'minimize', 'etol': 1.0e-5, 'ftol': 0.0, 'maxiter': 2000}


@dataclasses.dataclass
class SampledRun:
    """One LAMMPS run: ``scenario`` (command name), ``variant`` (e.g. ``edge``, ``1200K``), ``atoms`` (held
    atoms first), ``parameters`` (:mod:`.inputs`: stages, ``frozen``, ``dump_every``)."""

    scenario: str
    variant: str
    atoms: Atoms
    parameters: dict

    @property
    def label(self) -> str:
        return f'{self.scenario}-{self.variant}'


def scenario_names(names) -> list[str]:
    """Return the scenarios ``names`` stand for (``['all']``: every one of :data:`SCENARIOS`).

    :raises ValueError: for no name, an unknown one, or ``all`` beside others.
    """
    names = list(names)
    unknown = sorted(set(names) - {*SCENARIOS, 'all'})
    if unknown or not names or ('all' in names and len(names) > 1):
        raise ValueError(f'{", ".join(unknown) or names!r}: give names among {", ".join(SCENARIOS)}, or all alone')
    return list(SCENARIOS) if names == ['all'] else names


def plan_runs(names, symbol: str, a: float, protocol: dict, seed: int = 1) -> list[SampledRun]:
    """Return the runs of scenarios ``names`` (or ``['all']``; none for no names) for ``symbol`` (bcc, lattice
    constant ``a``)."""
    names = list(names)
    runs = []
    for name in scenario_names(names) if names else []:
        runs += _BUILDERS[name](name, symbol, a, protocol[_SECTION.get(name, name)], protocol, seed)
    return runs


def _md(settings: dict, protocol: dict, seed: int, temperature: float | None = None) -> dict:
    temperature = settings['temperature'] if temperature is None else temperature
    return {'type': 'md', 'temperature': temperature, 'steps': settings['steps'], 'timestep': protocol['timestep'], 'seed': seed}


def _run(name, variant, atoms, stages, protocol, frozen=0) -> SampledRun:
    parameters = {'stages': stages, 'frozen': int(frozen), 'dump_every': protocol['dump_every'], 'retrieve_atoms': False}
    return SampledRun(name, variant, atoms, parameters)  # the dumps and final atoms stay where they ran


def _held_first(atoms: Atoms) -> tuple[Atoms, int]:
    order = np.argsort(~atoms.arrays['fixed'], kind='stable')
    return atoms[order], int(atoms.arrays['fixed'].sum())


def _polycrystal(name, symbol, a, s, protocol, seed):
    grains = polycrystal(symbol, a, 'bcc', s['length'], s['grains'], seed)
    return [_run(name, f'{t:g}K', grains, [_RELAX, _md(s, protocol, seed, t)], protocol) for t in s['temperatures']]


def _deform(name, symbol, a, s, protocol, seed):
    grains = polycrystal(symbol, a, 'bcc', s['length'], s['grains'], seed)
    axis = 'xy' if name == 'shear' else 'x'
    mode = name
    stage = {
        'type': 'deform',
        'mode': mode,
        'axis': axis,
        'strain_rate': s['strain_rate'],
        'steps': s['steps'],
        'temperature': s['temperature'],
        'timestep': protocol['timestep'],
        'seed': seed,
    }
    return [_run(name, axis, grains, [_RELAX, stage], protocol)]


def _loops(name, symbol, a, s, protocol, seed):
    crystal = oriented_crystal(symbol, a, 'bcc', size=(s['length'],) * 3)
    centre = crystal.cell.lengths() / 2 + 0.1
    half = np.array([0.5, 0.5, 0.5]) * a
    structures = {
        '100-interstitial': interstitial_loop(crystal, centre, [a, 0, 0], s['radius']),
        '111-interstitial': interstitial_loop(crystal, centre, half, s['radius']),
        '111-glide': glide_loop(crystal, centre + [0, 0.3, 0], (-1, 1, 0), half, s['radius']),
    }
    return [_run(name, variant, atoms, [_RELAX, _md(s, protocol, seed)], protocol) for variant, atoms in structures.items()]


def _indentation(name, symbol, a, s, protocol, seed):
    slab = indentation_slab(symbol, a, 'bcc', size=s['size'])
    start = [*(slab.cell.lengths()[:2] / 2), slab.info['surface'] + s['radius'] + 2.0]
    stage = {
        'type': 'indent',
        'radius': s['radius'],
        'velocity': s['velocity'],
        'start': start,
        'thermostat_below': slab.info['thermostat_below'],
        'steps': s['steps'],
        'temperature': s['temperature'],
        'timestep': protocol['timestep'],
        'seed': seed,
    }
    return [_run(name, '001', slab, [stage], protocol, slab.info['n_fixed'])]


def _cracks(name, symbol, a, s, protocol, seed):
    runs = []
    for system in BCC_CRACK_SYSTEMS:
        atoms, held = _held_first(crack_slab(symbol, a, system, radius=s['radius'], k=s['k']))
        increments = s['increments']
        ramp = {
            'type': 'k_ramp',
            'tip': atoms.info['tip'],
            'k_step': s['k_step'],
            'increments': increments,
            'steps': s['steps'] // increments,
            'temperature': s['temperature'],
            'timestep': protocol['timestep'],
            'seed': seed,
        }
        runs.append(_run(name, system, atoms, [_RELAX, ramp], protocol, held))
    return runs


def _dislocations(name, symbol, a, s, protocol, seed):
    runs = []
    for character, (burgers, line, normal) in BCC_CHARACTERS.items():
        atoms = straight_dislocation(symbol, a, burgers, line, normal, radius=s['radius'], periods=3 if character == 'screw' else 2)
        atoms, held = _held_first(atoms)
        runs.append(_run(name, character, atoms, [_RELAX, _md(s, protocol, seed)], protocol, held))
    return runs


_SECTION = {'tension': 'deform', 'compression': 'deform', 'shear': 'deform'}
_BUILDERS = {
    'polycrystal': _polycrystal,
    'tension': _deform,
    'compression': _deform,
    'shear': _deform,
    'loop': _loops,
    'indentation': _indentation,
    'crack': _cracks,
    'dislocation': _dislocations,
}
