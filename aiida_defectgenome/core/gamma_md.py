"""MLIP molecular dynamics that watches the extrapolation grade, as on-the-fly active learning needs.

Every ``every`` steps the per-atom grade gamma of the current snapshot is computed against an active set
(for a SNAP model trained here, :func:`model_descriptor` is the model's own basis, so gamma is the model's
MLIP-3-style grade). A snapshot whose largest gamma exceeds ``save_threshold`` is kept (with a per-atom
``gamma`` array); the run stops at the first snapshot above ``break_threshold``. Atoms LAMMPS loses (the
usual end of a run that extrapolates badly) stop the run as well and are reported, not raised.
"""

from __future__ import annotations

import dataclasses

from ase import Atoms

from .active_set import ActiveSet
from .descriptors import SnapDescriptor, descriptor_from_parameters
from .lammps_library import apply_potential, current_positions, load_atoms, open_lammps
from .potentials import PotentialSpec
from .snap_model import SnapModel

__all__ = ('WatchedRun', 'model_descriptor', 'run_watched_md')


def model_descriptor(model: SnapModel) -> SnapDescriptor:
    """The per-atom descriptor that is ``model``'s basis (one-element models; the constant column is
    left out: the active set centres its rows, which has the same effect)."""
    basis = model.basis
    if len(basis.species) != 1:
        raise ValueError('the per-atom grade in the model basis is implemented for one-element models')
    return SnapDescriptor(
        twojmax=basis.twojmax, cutoff=basis.cutoff, rfac0=basis.rfac0, rmin0=basis.rmin0, quadratic=basis.quadratic
    )


@dataclasses.dataclass
class WatchedRun:
    """What a watched run did: ``steps`` run, ``gamma_max`` per check ``(checks,)`` at ``check_steps``,
    ``saved`` snapshots (each with ``info['step']``, ``info['gamma_max']`` and a ``gamma`` array),
    ``stopped`` (``'break_threshold'``, ``'lost_atoms'`` or ``''`` when all steps ran), and ``message``."""

    steps: int
    check_steps: list[int]
    gamma_max: list[float]
    saved: list[Atoms]
    stopped: str
    message: str = ''


def run_watched_md(
    atoms: Atoms,
    potential: PotentialSpec,
    active_set: ActiveSet,
    temperature: float,
    steps: int,
    every: int = 10,
    save_threshold: float = 2.0,
    break_threshold: float = 10.0,
    timestep: float = 0.001,
    seed: int = 12345,
) -> WatchedRun:
    """Run NVT MD (K, ps) of ``atoms`` with ``potential`` and watch gamma every ``every`` steps.

    :raises ValueError: on thresholds out of order or non-positive step counts.
    """
    if not 1 <= save_threshold <= break_threshold:
        raise ValueError(f'need 1 <= save_threshold <= break_threshold, got {save_threshold} and {break_threshold}')
    if steps < 1 or every < 1:
        raise ValueError('steps and every must be positive')
    descriptor = descriptor_from_parameters(active_set.descriptor)
    lmp = open_lammps()
    run = WatchedRun(0, [], [], [], '')
    try:
        species = load_atoms(lmp, atoms)
        apply_potential(lmp, potential, species)
        lmp.commands_list(
            [
                f'timestep {timestep}',
                f'velocity all create {temperature} {seed} mom yes rot yes dist gaussian',
                f'fix dg_nvt all nvt temp {temperature} {temperature} {100 * timestep}',
                'thermo 0',
            ]
        )
        while run.steps < steps:
            chunk = min(every, steps - run.steps)
            try:
                lmp.command(f'run {chunk} pre {"yes" if run.steps == 0 else "no"} post no')
            except Exception as exc:  # LAMMPS raises a plain Exception carrying its own message
                run.stopped, run.message = ('lost_atoms', str(exc)) if 'Lost atoms' in str(exc) else ('lammps_error', str(exc))
                break
            run.steps += chunk
            snapshot = atoms.copy()
            snapshot.positions = current_positions(lmp, atoms)
            snapshot.wrap()
            gamma = active_set.grade(descriptor.compute(snapshot))
            run.check_steps.append(run.steps)
            run.gamma_max.append(float(gamma.max()))
            if gamma.max() > save_threshold:
                snapshot.arrays['gamma'] = gamma
                snapshot.info.update(step=run.steps, gamma_max=float(gamma.max()))
                run.saved.append(snapshot)
            if gamma.max() > break_threshold:
                run.stopped = 'break_threshold'
                break
    finally:
        lmp.close()
    return run
