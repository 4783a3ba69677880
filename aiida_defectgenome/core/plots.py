"""Figures: extrapolation-grade distributions, PCC-GCMC energy maps, MLIP parity plots and learning curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ('plot_energy_map', 'plot_gamma_distributions', 'plot_learning_curve', 'plot_parity')


def _pyplot():
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def plot_gamma_distributions(sets: dict[str, np.ndarray], path, title: str = '', thresholds=(1.0, 2.0)) -> Path:
    """Write a PNG of the probability density of log10(gamma) for each named set of per-atom grades.

    :param sets: ``{label: gamma (n,)}``; empty sets are skipped.
    :param thresholds: grades marked by vertical lines (1: extrapolation starts; 2: the paper's
        preselection).
    :returns: the path written.
    """
    plt = _pyplot()
    values = [np.asarray(gamma, dtype=float) for gamma in sets.values() if len(gamma)]
    if not values:
        raise ValueError('no grades to plot')
    smallest = max(min(float(v[v > 0].min()) if (v > 0).any() else 1e-3 for v in values), 1e-6)
    largest = max(max(float(v.max()) for v in values), 2 * max(thresholds, default=1.0))
    bins = np.logspace(np.log10(smallest), np.log10(largest), 60)
    figure, axes = plt.subplots(figsize=(6.4, 4.0), layout='constrained')
    for label, gamma in sets.items():
        gamma = np.asarray(gamma, dtype=float)
        if not len(gamma):
            continue
        density, edges = np.histogram(np.log10(np.clip(gamma, smallest, None)), bins=np.log10(bins), density=True)
        axes.stairs(density, 10**edges, label=f'{label} ({len(gamma)} atoms, max {gamma.max():.3g})')
    for value in thresholds:
        axes.axvline(value, color='grey', linestyle='--', linewidth=0.8)
    axes.set_xscale('log')
    axes.set_xlabel('extrapolation grade $\\gamma$')
    axes.set_ylabel('probability density of $\\log_{10}\\gamma$')
    axes.set_title(title)
    axes.legend(fontsize='small')
    path = Path(path)
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path


def plot_energy_map(candidates: list[dict], chosen: int | None, target) -> None:
    """Write a PNG of the PCC-GCMC candidates: energy per atom against atom count, valid boxes filled,
    invalid ones open, the chosen one circled. ``target``: a path or a binary file object."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.0, 4.0), layout='constrained')
    for valid, style in ((True, dict(color='C0')), (False, dict(facecolors='none', edgecolors='C3'))):
        rows = [c for c in candidates if c['valid'] == valid and 'energy_per_atom' in c]
        if rows:
            axes.scatter(
                [c['natoms'] for c in rows], [c['energy_per_atom'] for c in rows], label='valid' if valid else 'invalid', **style
            )
    if chosen is not None:
        best = candidates[chosen]
        axes.scatter([best['natoms']], [best['energy_per_atom']], s=200, facecolors='none', edgecolors='k', label='chosen')
    axes.set_xlabel('atoms in the cell')
    axes.set_ylabel('energy per atom (eV)')
    axes.set_title('PCC-GCMC candidate boxes')
    axes.legend(fontsize='small')
    figure.savefig(target, dpi=120, format='png')
    plt.close(figure)


def plot_parity(sets: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], target, title: str = '') -> None:
    """Write a PNG with two parity panels, energy per atom (eV/atom) and force components (eV/A).

    :param sets: ``{label: (reference energies per atom, predicted, reference force components, predicted)}``.
    :param target: a path or a binary file object.
    """
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(9.0, 4.2), layout='constrained')
    for label, (e_ref, e_pred, f_ref, f_pred) in sets.items():
        if len(e_ref) == 0:
            continue
        e_rmse = 1e3 * np.sqrt(np.mean((np.asarray(e_pred) - e_ref) ** 2))
        f_rmse = 1e3 * np.sqrt(np.mean((np.asarray(f_pred) - f_ref) ** 2))
        left.scatter(e_ref, e_pred, s=6, label=f'{label}: {e_rmse:.2f} meV/atom')
        right.scatter(f_ref, f_pred, s=2, alpha=0.4, label=f'{label}: {f_rmse:.0f} meV/A')
    for axes, unit in ((left, 'eV/atom'), (right, 'eV/A')):
        low, high = axes.get_xlim()
        axes.plot([low, high], [low, high], color='grey', linewidth=0.8)
        axes.set_xlabel(f'reference ({unit})')
        axes.set_ylabel(f'predicted ({unit})')
        axes.legend(fontsize='small')
    left.set_title('energy per atom')
    right.set_title('force components')
    figure.suptitle(title)
    figure.savefig(target, dpi=120, format='png')
    plt.close(figure)


def plot_learning_curve(curve: list[dict], target, title: str = '') -> None:
    """Write a PNG of test energy and force RMSE against training configurations (entries of
    :func:`aiida_defectgenome.core.mlip.snap_training.learning_curve`)."""
    plt = _pyplot()
    figure, left = plt.subplots(figsize=(6.0, 4.0), layout='constrained')
    sizes = [point['training_configurations'] for point in curve]
    left.plot(sizes, [p['energy_rmse_mev_per_atom'] for p in curve], 'o-', color='C0')
    left.set_xlabel('training configurations')
    left.set_ylabel('test energy RMSE (meV/atom)', color='C0')
    right = left.twinx()
    right.plot(sizes, [p['force_rmse_mev_per_a'] for p in curve], 's--', color='C1')
    right.set_ylabel('test force RMSE (meV/A)', color='C1')
    left.set_xscale('log')
    left.set_title(title or 'learning curve')
    figure.savefig(target, dpi=120, format='png')
    plt.close(figure)
