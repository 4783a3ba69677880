"""pacemaker (ACE, ``python-ace``) files: the training DataFrame, ``input.yaml``, and the predictions it writes.

pacemaker reads a gzip-pickled pandas DataFrame with the columns ``ase_atoms``, ``energy`` (eV, total)
and ``forces`` (``(n, 3)`` eV/A); ``data: reference_energy: auto`` lets it fit the per-element reference
energies itself. After a fit it writes ``output_potential.yaml`` and, for the train and test splits,
``train_pred.pckl.gzip`` and ``test_pred.pckl.gzip``: the same frames with ``energy_pred`` (compared
with ``energy_corrected``, the energy above the fitted references) and ``forces_pred``, which
:func:`prediction_errors` scores in this package's units.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..structures.datasets import Labels
from .snap_fit import errors, parity_arrays

__all__ = ('PACE_DEFAULTS', 'pacemaker_input', 'prediction_errors', 'prediction_parity', 'write_pacemaker_dataset')

#: Settings of :func:`pacemaker_input`: cutoff (A), basis functions per element, BFGS iterations, the
#: energy/force balance ``kappa``, the test fraction, the seed.
PACE_DEFAULTS = {'cutoff': 5.0, 'functions_per_element': 300, 'maxiter': 1500, 'kappa': 0.3, 'test_size': 0.1, 'seed': 42}


def write_pacemaker_dataset(
    configurations: Sequence[tuple[Atoms, Labels]], path, groups: Sequence[str] | None = None, names: Sequence[str] | None = None
) -> Path:
    """Write the training DataFrame (gzip pickle) of ``configurations``; ``groups`` go to column ``dg_group``,
    ``names`` (e.g. node UUIDs) to column ``name``.

    Strings are stored as plain objects (column names too), not as pandas 3's string dtype: pacemaker
    needs pandas < 3, which cannot unpickle that dtype.
    """
    import pandas as pd

    frame = pd.DataFrame(
        {
            'ase_atoms': [atoms.copy() for atoms, _ in configurations],
            'energy': [labels.energy for _, labels in configurations],
            'forces': [np.asarray(labels.forces, dtype=float) for _, labels in configurations],
            'dg_group': pd.Series(list(groups) if groups is not None else ['all'] * len(configurations), dtype=object),
        }
    )
    if names is not None:
        frame['name'] = pd.Series(list(names), dtype=object)
    frame.columns = pd.Index(list(frame.columns), dtype=object)
    for atoms in frame['ase_atoms']:
        atoms.calc = None
    path = Path(path)
    frame.to_pickle(path, compression='gzip', protocol=4)
    return path


def pacemaker_input(elements: Sequence[str], settings: dict, data_file: str = 'train.pckl.gzip') -> dict:
    """Return pacemaker's ``input.yaml`` as a dict (:data:`PACE_DEFAULTS` updated by ``settings``).

    :raises ValueError: on an unknown setting.
    """
    unknown = sorted(set(settings) - set(PACE_DEFAULTS))
    if unknown:
        raise ValueError(f'unknown pacemaker settings: {", ".join(unknown)}; known: {", ".join(PACE_DEFAULTS)}')
    values = {**PACE_DEFAULTS, **settings}
    cutoff = float(values['cutoff'])
    return {
        'cutoff': cutoff,
        'seed': int(values['seed']),
        'metadata': {'origin': 'aiida-defectgenome'},
        'potential': {
            'deltaSplineBins': 0.001,
            'elements': list(elements),
            'embeddings': {'ALL': {'npot': 'FinnisSinclairShiftedScaled', 'fs_parameters': [1, 1, 1, 0.5], 'ndensity': 2}},
            'bonds': {'ALL': {'radbase': 'SBessel', 'radparameters': [5.25], 'rcut': cutoff, 'dcut': 0.01}},
            'functions': {
                'number_of_functions_per_element': int(values['functions_per_element']),
                'ALL': {'nradmax_by_orders': [15, 6, 4, 3, 2, 2], 'lmax_by_orders': [0, 3, 3, 2, 2, 1]},
            },
        },
        'data': {'filename': data_file, 'test_size': float(values['test_size']), 'reference_energy': 'auto'},
        'fit': {
            'loss': {'kappa': float(values['kappa']), 'L1_coeffs': 1e-8, 'L2_coeffs': 1e-8},
            'optimizer': 'BFGS',
            'maxiter': int(values['maxiter']),
            'repulsion': 'auto',
        },
        'backend': {'evaluator': 'tensorpot', 'batch_size': 100, 'display_step': 50},
    }


def _predictions(path):
    """Return ``(reference labels, predicted (energy, forces))`` of a pacemaker ``*_pred.pckl.gzip`` file."""
    import pandas as pd

    frame = pd.read_pickle(path, compression='gzip')
    # energy_pred is the energy above pacemaker's reference energies, as energy_corrected is
    missing = [c for c in ('energy_corrected', 'energy_pred', 'forces', 'forces_pred') if c not in frame.columns]
    if missing:
        raise ValueError(f'{Path(path).name} lacks the columns {", ".join(missing)}')
    reference = [Labels(float(e), np.asarray(f, dtype=float)) for e, f in zip(frame['energy_corrected'], frame['forces'])]
    predicted = [(float(e), np.asarray(f, dtype=float)) for e, f in zip(frame['energy_pred'], frame['forces_pred'])]
    return reference, predicted


def prediction_errors(path) -> dict:
    """Return :func:`..snap_fit.errors` of a ``*_pred.pckl.gzip`` file pacemaker wrote (meV/atom, meV/A).

    :raises ValueError: if the file lacks the reference or predicted columns.
    """
    reference, predicted = _predictions(path)
    return errors(predicted, reference)


def prediction_parity(path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the four parity arrays of :func:`..plots.plot_parity` (energies per atom, force components)."""
    reference, predicted = _predictions(path)
    return parity_arrays(predicted, reference)
