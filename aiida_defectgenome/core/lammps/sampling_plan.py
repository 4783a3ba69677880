"""The runs of an EIP-sampling campaign: each scenario's starting structure and its LAMMPS loading stages.

Scenario names (the ``sample`` command's): ``polycrystal`` (anneal at each temperature), ``tension``,
``compression``, ``shear`` (a polycrystal deformed at a strain rate), ``loop``, ``indentation``, ``crack``
(four systems of the lattice, mode I K raised step by step from ``k`` by ``increments`` of ``k_step``),
``dislocation``, ``fault`` (planar faults of close-packed lattices); ``all`` for every one the lattice has.
Per lattice (:data:`LATTICE_SCENARIOS`): loops in bcc are <100> and 1/2<111> interstitial loops and a
1/2<111> glide loop; in fcc a 1/2<110> prismatic interstitial loop, Frank interstitial and vacancy loops and
a triangular vacancy platelet (stacking-fault tetrahedron); in hcp an <a> prismatic and a <c+a> interstitial
loop and basal interstitial and vacancy loops. Dislocations are those of
:func:`..structures.dislocations.dislocation_characters` (fcc ones split into Shockley partials when
relaxed), faults an intrinsic stacking fault and a pair of twin boundaries (fcc) or the I2 basal fault (hcp).
Sizes and run lengths come from a protocol (``protocols/eip_sampling.yaml``). Atoms to hold (a
dislocation's or crack's outer shell, an indented slab's bottom) come first and the run freezes them.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from ase import Atoms

from ..structures.cracks import CRACK_SYSTEMS, crack_slab
from ..structures.dislocations import dislocation_characters, straight_dislocation
from ..structures.faults import layers, stacking_fault, twin_pair
from ..structures.loops import faulted_loop, glide_loop, interstitial_loop
from ..structures.scenarios import cartesian, direction_period, indentation_slab, lattice_of, oriented_crystal, polycrystal

__all__ = ('LATTICE_SCENARIOS', 'SCENARIOS', 'SampledRun', 'plan_runs', 'scenario_names')

SCENARIOS = ('polycrystal', 'tension', 'compression', 'shear', 'loop', 'indentation', 'crack', 'dislocation', 'fault')
#: The scenarios each lattice has (bcc: no planar fault is stable).
LATTICE_SCENARIOS = {'bcc': SCENARIOS[:-1], 'fcc': SCENARIOS, 'hcp': SCENARIOS}
#: Close-packed layers normal to z: fcc's {111} in these axes, hcp's basal plane in its own.
_CLOSE_PACKED = {'fcc': ((1, -1, 0), (1, 1, -2), (1, 1, 1)), 'hcp': ((1, 0, 0), (0, 1, 0), (0, 0, 1))}
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


def scenario_names(names, lattice=None) -> list[str]:
    """Return the scenarios ``names`` stand for (``['all']``: every one of :data:`SCENARIOS`, or of the
    ``lattice``'s when it is given).

    :raises ValueError: for no name, an unknown one, ``all`` beside others, or one the lattice lacks.
    """
    names = list(names)
    unknown = sorted(set(names) - {*SCENARIOS, 'all'})
    if unknown or not names or ('all' in names and len(names) > 1):
        raise ValueError(f'{", ".join(unknown) or names!r}: give names among {", ".join(SCENARIOS)}, or all alone')
    known = SCENARIOS if lattice is None else LATTICE_SCENARIOS[lattice_of(lattice).name]
    lacking = [name for name in names if name not in (*known, 'all')]
    if lacking:
        raise ValueError(
            f'{", ".join(lacking)}: no such scenario for a {lattice_of(lattice).name} metal; it has {", ".join(known)}'
        )
    return list(known) if names == ['all'] else names


def plan_runs(names, symbol: str, a: float, protocol: dict, seed: int = 1, lattice='bcc') -> list[SampledRun]:
    """Return the runs of scenarios ``names`` (or ``['all']``; none for no names) for ``symbol`` in ``lattice``
    (a name or a :class:`..structures.scenarios.Lattice`, with its c/a for hcp) of lattice constant ``a`` (A)."""
    names = list(names)
    lattice = lattice_of(lattice)
    runs = []
    for name in scenario_names(names, lattice) if names else []:
        runs += _BUILDERS[name](name, symbol, a, protocol[_SECTION.get(name, name)], protocol, seed, lattice)
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


def _polycrystal(name, symbol, a, s, protocol, seed, lattice):
    grains = polycrystal(symbol, a, lattice, s['length'], s['grains'], seed)
    return [_run(name, f'{t:g}K', grains, [_RELAX, _md(s, protocol, seed, t)], protocol) for t in s['temperatures']]


def _deform(name, symbol, a, s, protocol, seed, lattice):
    grains = polycrystal(symbol, a, lattice, s['length'], s['grains'], seed)
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


def _loops(name, symbol, a, s, protocol, seed, lattice):
    crystal = oriented_crystal(symbol, a, lattice, size=(s['length'],) * 3)
    centre = crystal.cell.lengths() / 2 + 0.1
    radius = s['radius']
    if lattice.name == 'bcc':
        half = np.array([0.5, 0.5, 0.5]) * a
        structures = {
            '100-interstitial': interstitial_loop(crystal, centre, [a, 0, 0], radius),
            '111-interstitial': interstitial_loop(crystal, centre, half, radius),
            '111-glide': glide_loop(crystal, centre + [0, 0.3, 0], (-1, 1, 0), half, radius),
        }
    else:
        layered = _close_packed(symbol, a, lattice, s['length'])
        middle = layered.cell.lengths() / 2 + 0.1
        prismatic = (0.5, 0.5, 0.0) if lattice.name == 'fcc' else (1, 0, 0)
        structures = {
            f'{"110" if lattice.name == "fcc" else "a"}-interstitial': interstitial_loop(
                crystal, centre, cartesian(prismatic, lattice) * a, radius
            ),
            'faulted-interstitial': faulted_loop(layered, middle, radius, 'interstitial'),
            'faulted-vacancy': faulted_loop(layered, middle, radius, 'vacancy'),
        }
        if lattice.name == 'fcc':
            structures['sft-platelet'] = faulted_loop(layered, middle, radius, 'vacancy', 'triangle')
        else:
            structures['ca-interstitial'] = interstitial_loop(crystal, centre, cartesian((1, 0, 1), lattice) * a, radius)
    return [_run(name, variant, atoms, [_RELAX, _md(s, protocol, seed)], protocol) for variant, atoms in structures.items()]


def _close_packed(symbol, a, lattice, length) -> Atoms:
    """A periodic crystal of about ``length`` A with z normal to its close-packed layers, of them an even number."""
    crystal = oriented_crystal(symbol, a, lattice, _CLOSE_PACKED[lattice.name], size=(length,) * 3)
    if len(layers(crystal)[1]) % 2:
        period = direction_period(_CLOSE_PACKED[lattice.name][2], lattice, a)
        crystal = oriented_crystal(symbol, a, lattice, _CLOSE_PACKED[lattice.name], size=(length, length, length + period))
    return crystal


def _faults(name, symbol, a, s, protocol, seed, lattice):
    crystal = _close_packed(symbol, a, lattice, s['length'])
    structures = {'intrinsic' if lattice.name == 'fcc' else 'basal-i2': stacking_fault(crystal)}
    if lattice.name == 'fcc':
        structures['twin'] = twin_pair(crystal)
    return [_run(name, variant, atoms, [_RELAX, _md(s, protocol, seed)], protocol) for variant, atoms in structures.items()]


def _indentation(name, symbol, a, s, protocol, seed, lattice):
    slab = indentation_slab(symbol, a, lattice, size=s['size'])
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


def _cracks(name, symbol, a, s, protocol, seed, lattice):
    runs = []
    for system in CRACK_SYSTEMS[lattice.name]:
        atoms, held = _held_first(crack_slab(symbol, a, system, lattice, radius=s['radius'], k=s['k']))
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


def _dislocations(name, symbol, a, s, protocol, seed, lattice):
    runs = []
    for character, (burgers, line, normal) in dislocation_characters(lattice).items():
        if lattice.name == 'bcc':
            periods = 3 if character == 'screw' else 2
        else:  # at least 8 A along the line, the cut radius of a cluster
            periods = max(2, math.ceil(8.0 / direction_period(line, lattice, a)))
        atoms = straight_dislocation(symbol, a, burgers, line, normal, lattice, radius=s['radius'], periods=periods)
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
    'fault': _faults,
}
