"""MLIP molecular dynamics that watches the extrapolation grade, as on-the-fly active learning needs.

A watched run is a list of LAMMPS stages, the same scenarios and loadings as EIP sampling
(:mod:`..lammps.inputs`, :mod:`..lammps.sampling_plan`: annealing, deformation, indentation, crack loading, with
held atoms), or the shorthand NVT at ``temperature`` for ``steps``. Every ``every`` MD steps the per-atom
grade gamma of the current snapshot is computed against an active set (for a SNAP model trained here,
:func:`model_descriptor` is the model's own basis, so gamma is the model's MLIP-3-style grade);
minimisations run unwatched. A snapshot whose largest gamma exceeds ``save_threshold`` is kept (with a
per-atom ``gamma`` array); the run stops at the first snapshot above ``break_threshold``. Atoms LAMMPS
loses (the usual end of a run that extrapolates badly) stop the run as well and are reported, not raised.

As a job (``python -m aiida_defectgenome.core.jobs.gamma_md``, what ``GammaMdCalculation`` starts): reads
``watch.json`` (settings of :func:`validate_watch`), ``structure.extxyz``, ``active_set.npz`` and the
potential in ``potential/`` (``potential.json`` and its files); writes ``saved.extxyz`` (the kept
snapshots) and ``summary.json`` (steps, checks, gamma_max per check, why it stopped).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms

from ..doptimality.active_set import ActiveSet
from ..doptimality.descriptors import SnapDescriptor, descriptor_from_parameters
from ..lammps.inputs import lammps_frame, render_run, validate_parameters
from ..lammps.library import open_lammps, per_atom_order
from ..lammps.potentials import PotentialSpec, pair_commands
from ..mlip.snap_model import SnapModel

__all__ = (
    'WATCH_KEYS',
    'WatchedRun',
    'current_atoms',
    'main',
    'model_descriptor',
    'run_watched_md',
    'validate_watch',
    'watch_settings',
)

#: Settings of a watched run (``watch.json``) with their defaults: either ``stages`` (and ``frozen``, the
#: number of held atoms, which come first) or the NVT shorthand ``temperature`` (K), ``steps``,
#: ``timestep`` (ps) and ``seed``.
WATCH_KEYS = {
    'stages': None,
    'frozen': 0,
    'temperature': None,
    'steps': None,
    'timestep': 0.001,
    'seed': 12345,
    'every': 10,
    'save_threshold': 2.0,
    'break_threshold': 10.0,
}
_SHORTHAND = ('temperature', 'steps', 'timestep', 'seed')
_WATCHED_STAGES = ('md', 'deform', 'indent', 'k_ramp')  # and unwatched minimisations; no Monte Carlo


def model_descriptor(model: SnapModel) -> SnapDescriptor:
    """The per-atom descriptor that is ``model``'s basis (one-element models; the constant column is
    left out: the active set centres its rows, which has the same effect). For a model with extra radial
    channels it is the main channel's, which holds the quadratic terms and the longest cutoff."""
    basis = model.basis
    if len(basis.species) != 1:
        raise ValueError('the per-atom grade in the model basis is implemented for one-element models')
    return SnapDescriptor(
        twojmax=basis.twojmax, cutoff=basis.cutoff, rfac0=basis.rfac0, rmin0=basis.rmin0, quadratic=basis.quadratic
    )


@dataclasses.dataclass
class WatchedRun:
    """What a watched run did: ``steps`` (MD steps run), ``gamma_max`` per check ``(checks,)`` at
    ``check_steps``, ``saved`` snapshots (each with ``info['step']``, ``info['gamma_max']`` and a ``gamma``
    array), ``stopped`` (``'break_threshold'``, ``'lost_atoms'``, ``'lammps_error'``, or ``''`` when all
    stages ran), and ``message`` (LAMMPS' own, when it stopped the run)."""

    steps: int
    check_steps: list[int]
    gamma_max: list[float]
    saved: list[Atoms]
    stopped: str
    message: str = ''


def validate_watch(settings: dict) -> dict:
    """Return complete settings ``{'stages', 'frozen', 'every', 'save_threshold', 'break_threshold'}``
    (the NVT shorthand turned into one ``md`` stage); raise ``ValueError`` naming the first bad entry."""
    unknown = sorted(set(settings) - set(WATCH_KEYS))
    if unknown:
        raise ValueError(f'unknown watch settings: {", ".join(unknown)}; known: {", ".join(WATCH_KEYS)}')
    values = {**WATCH_KEYS, **settings}
    if values['stages'] is None:
        missing = [key for key in _SHORTHAND if values[key] is None]
        if missing:
            raise ValueError(f'watch settings need stages, or {", ".join(missing)} for NVT MD')
        if not isinstance(values['steps'], int) or values['steps'] < 1 or not values['temperature'] > 0:
            raise ValueError('steps and temperature must be positive')
        nvt = {'type': 'md', 'ensemble': 'nvt', 'tdamp': 100 * values['timestep']}
        values['stages'] = [{**nvt, **{key: values[key] for key in _SHORTHAND}}]
    elif any(key in settings for key in _SHORTHAND):
        raise ValueError(f'give either stages or the NVT shorthand ({", ".join(_SHORTHAND)}), not both')
    run = validate_parameters({'stages': values['stages'], 'frozen': values['frozen']})
    kinds = [stage['type'] for stage in run['stages']]
    if not set(kinds) & set(_WATCHED_STAGES) or not set(kinds) <= {'minimize', *_WATCHED_STAGES}:
        raise ValueError(f'a watched run needs MD stages ({", ".join(_WATCHED_STAGES)}; minimize may come between)')
    if not 1 <= values['save_threshold'] <= values['break_threshold']:
        raise ValueError('need 1 <= save_threshold <= break_threshold')
    if not isinstance(values['every'], int) or values['every'] < 1:
        raise ValueError('every must be a positive integer (MD steps between checks)')
    keys = ('every', 'save_threshold', 'break_threshold')
    return {'stages': run['stages'], 'frozen': run['frozen'], **{key: values[key] for key in keys}}


def watch_settings(watch: dict, loading: dict | None = None) -> dict:
    """Complete settings of one watched run: ``watch`` (``every`` and the thresholds, and the NVT shorthand
    for a structure without a loading) with, when given, the ``stages`` and ``frozen`` of ``loading`` (LAMMPS
    run parameters as EIP sampling plans them; their dump and thermo settings are not used)."""
    if loading is None:
        return validate_watch(watch)
    shared = {key: value for key, value in watch.items() if key not in _SHORTHAND}
    return validate_watch({**shared, 'stages': loading.get('stages'), 'frozen': loading.get('frozen', 0)})


def run_watched_md(
    atoms: Atoms,
    potential: PotentialSpec,
    active_set: ActiveSet,
    stages: list[dict],
    frozen: int = 0,
    every: int = 10,
    save_threshold: float = 2.0,
    break_threshold: float = 10.0,
) -> WatchedRun:
    """Run the LAMMPS ``stages`` on ``atoms`` (the first ``frozen`` held) with ``potential`` and watch
    gamma every ``every`` MD steps. LAMMPS runs the script EIP sampling would run; each of its ``run N``
    goes in chunks (``run n start S stop S+N``, so strain rates and indenter paths are those of one run).

    :raises ValueError: on settings :func:`validate_watch` refuses.
    """
    thresholds = {'save_threshold': save_threshold, 'break_threshold': break_threshold}
    settings = validate_watch({'stages': stages, 'frozen': frozen, 'every': every, **thresholds})
    descriptor = descriptor_from_parameters(active_set.descriptor)
    files = tuple(str(Path(path).resolve()) for path in potential.files)

    def pair_lines(elements):
        return pair_commands(potential.pair_style, potential.pair_coeff, files, potential.species, elements)

    run = WatchedRun(0, [], [], [], '')
    lmp = open_lammps()
    try:
        with tempfile.TemporaryDirectory(prefix='dg-watch-') as folder:
            data_file = Path(folder) / 'structure.data'
            parameters = validate_parameters({'stages': settings['stages'], 'frozen': settings['frozen'], 'thermo_every': every})
            data, script = render_run(atoms, potential.species, pair_lines, parameters, str(data_file), final_output=False)
            data_file.write_text(data)
            for command in script.splitlines():
                if command.startswith('run '):
                    _watched(lmp, int(command.split()[1]), atoms, descriptor, active_set, settings, run)
                else:
                    _command(lmp, command, run)
                if run.stopped:
                    break
    finally:
        lmp.close()
    return run


def _command(lmp, command: str, run: WatchedRun) -> None:
    """Run one LAMMPS command; a LAMMPS error ends ``run`` (``stopped`` says why)."""
    try:
        lmp.command(command)
    except Exception as exc:  # LAMMPS raises a plain Exception carrying its own message
        run.stopped, run.message = ('lost_atoms', str(exc)) if 'Lost atoms' in str(exc) else ('lammps_error', str(exc))


def _watched(lmp, steps: int, atoms: Atoms, descriptor, active_set: ActiveSet, settings: dict, run: WatchedRun) -> None:
    """``run steps`` in chunks of ``every``, grading each snapshot; ends ``run`` above the break threshold."""
    start, done = int(lmp.extract_global('ntimestep')), 0
    while done < steps and not run.stopped:
        chunk = min(settings['every'], steps - done)
        _command(lmp, f'run {chunk} start {start} stop {start + steps} pre {"yes" if done == 0 else "no"} post no', run)
        if run.stopped:
            return
        done += chunk
        run.steps += chunk
        snapshot = current_atoms(lmp, atoms)
        gamma = active_set.grade(descriptor.compute(snapshot))
        run.check_steps.append(run.steps)
        run.gamma_max.append(float(gamma.max()))
        if gamma.max() > settings['save_threshold']:
            snapshot.arrays['gamma'] = gamma
            snapshot.info.update(step=run.steps, gamma_max=float(gamma.max()))
            run.saved.append(snapshot)
        if gamma.max() > settings['break_threshold']:
            run.stopped = 'break_threshold'


def current_atoms(lmp, atoms: Atoms) -> Atoms:
    """Return the structure LAMMPS holds now (box and positions, wrapped) in the frame of ``atoms``, for a
    run that :func:`.lammps_input.render_run` set up from ``atoms`` (same atoms, same order)."""
    boxlo, boxhi, xy, yz, xz, _, _ = lmp.extract_box()
    lx, ly, lz = np.subtract(boxhi, boxlo)
    _, rotation = lammps_frame(atoms.cell.array)
    order = per_atom_order(lmp)
    positions = np.empty((len(atoms), 3))
    positions[order] = lmp.numpy.extract_atom('x')[: len(order)]  # the frame of atoms, as the LAMMPS parser gives it
    snapshot = atoms.copy()
    snapshot.set_cell(np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]]) @ rotation.T)
    snapshot.positions = positions @ rotation.T
    snapshot.wrap()
    return snapshot


def main() -> int:
    """Run the job in the working directory (see the module docstring); exit 2 on bad input."""
    import ase.io

    from ..doptimality.active_set import load_active_set
    from ..mlip.potential_evaluation import read_potential_directory

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
