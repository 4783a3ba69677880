"""MLIP molecular dynamics that watches the extrapolation grade, as on-the-fly active learning needs.

Every ``every`` steps the per-atom grade gamma of the current snapshot is computed against an active set
(for a SNAP model trained here, :func:`model_descriptor` is the model's own basis, so gamma is the model's
MLIP-3-style grade). A snapshot whose largest gamma exceeds ``save_threshold`` is kept (with a per-atom
``gamma`` array); the run stops at the first snapshot above ``break_threshold``. Atoms LAMMPS loses (the
usual end of a run that extrapolates badly) stop the run as well and are reported, not raised.

As a job (``python -m aiida_defectgenome.core.gamma_md``, what ``GammaMdCalculation`` starts): reads
``watch.json`` (the keyword arguments of :func:`run_watched_md` but the first three), ``structure.extxyz``,
``active_set.npz`` and the potential in ``potential/`` (``potential.json`` and its files); writes
``saved.extxyz`` (the kept snapshots) and ``summary.json`` (steps, checks, gamma_max per check, why it
stopped).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from ase import Atoms

from .active_set import ActiveSet
from .descriptors import SnapDescriptor, descriptor_from_parameters
from .lammps_library import apply_potential, current_positions, load_atoms, open_lammps
from .potentials import PotentialSpec
from .snap_model import SnapModel

__all__ = ('WATCH_KEYS', 'WatchedRun', 'main', 'model_descriptor', 'run_watched_md', 'validate_watch')

#: Settings of a watched run (``watch.json``), with their defaults; ``temperature`` (K) and ``steps`` are required.
WATCH_KEYS = {
    'temperature': None,
    'steps': None,
    'every': 10,
    'save_threshold': 2.0,
    'break_threshold': 10.0,
    'timestep': 0.001,
    'seed': 12345,
}


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
    ``stopped`` (``'break_threshold'``, ``'lost_atoms'``, ``'lammps_error'``, or ``''`` when all steps
    ran), and ``message`` (LAMMPS' own, when it stopped the run)."""

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
    validate_watch(
        dict(temperature=temperature, steps=steps, every=every, save_threshold=save_threshold, break_threshold=break_threshold)
    )
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


def validate_watch(settings: dict) -> dict:
    """Return ``settings`` with defaults filled in; raise ``ValueError`` on unknown keys or missing values."""
    unknown = sorted(set(settings) - set(WATCH_KEYS))
    if unknown:
        raise ValueError(f'unknown watch settings: {", ".join(unknown)}; known: {", ".join(WATCH_KEYS)}')
    values = {**WATCH_KEYS, **settings}
    missing = [key for key, value in values.items() if value is None]
    if missing:
        raise ValueError(f'watch settings need {", ".join(missing)}')
    if not 1 <= values['save_threshold'] <= values['break_threshold']:
        raise ValueError('need 1 <= save_threshold <= break_threshold')
    if values['steps'] < 1 or values['every'] < 1 or values['temperature'] <= 0:
        raise ValueError('steps, every and temperature must be positive')
    return values


def main() -> int:
    """Run the job in the working directory (see the module docstring); exit 2 on bad input."""
    import ase.io

    from .active_set import load_active_set
    from .potential_evaluation import read_potential_directory

    try:
        settings = validate_watch(json.loads(Path('watch.json').read_text()))
        atoms = ase.io.read('structure.extxyz')
        run = run_watched_md(atoms, read_potential_directory('potential'), load_active_set('active_set.npz'), **settings)
    except (ValueError, OSError) as exc:
        print(f'watched MD failed: {exc}', file=sys.stderr)
        return 2
    ase.io.write('saved.extxyz', run.saved, format='extxyz')
    summary = {
        'steps': run.steps,
        'check_steps': run.check_steps,
        'gamma_max': run.gamma_max,
        'saved': len(run.saved),
        'stopped': run.stopped,
        'message': run.message[-500:],
    }
    Path('summary.json').write_text(json.dumps(summary, indent=1))
    print(f'{run.steps} steps, {len(run.saved)} snapshots saved, stopped: {run.stopped or "no"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
