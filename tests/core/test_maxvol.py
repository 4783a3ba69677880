"""The maths of the D-optimality engine: MaxVol, the grade, selection, on random and degenerate pools."""

import numpy as np
import pytest

from aiida_defectgenome.core.doptimality.active_set import build_active_set, configuration_grades, load_active_set
from aiida_defectgenome.core.doptimality.maxvol import maxvol
from aiida_defectgenome.core.doptimality.selection import merge_nearby_centres, select_extrapolative


@pytest.fixture
def pool():
    rng = np.random.default_rng(7)
    return rng.normal(size=(2000, 12)) @ rng.normal(size=(12, 12))


def test_maxvol_bounds_every_row_and_det_grows(pool):
    start = np.arange(12)  # a poor start, so that many swaps happen
    result = maxvol(pool, tol=1.001, start=start)
    grades = np.abs(pool @ np.linalg.inv(pool[result.rows])).max(axis=1)
    assert result.converged and grades.max() <= 1.001 + 1e-9
    assert result.iterations > 5
    assert np.all(np.diff(result.log_det) > 0)
    assert result.log_det[-1] == pytest.approx(np.linalg.slogdet(pool[result.rows])[1], rel=1e-8)
    assert np.linalg.slogdet(pool[result.rows])[1] > np.linalg.slogdet(pool[start])[1]


def test_maxvol_is_deterministic_and_capped(pool):
    first, second = maxvol(pool), maxvol(pool.copy())
    assert np.array_equal(first.rows, second.rows)
    capped = maxvol(pool, start=np.arange(12), max_iterations=2)
    assert capped.iterations == 2 and not capped.converged


def test_maxvol_rejects_short_pools():
    with pytest.raises(ValueError, match='at least as many rows'):
        maxvol(np.ones((3, 5)))


def test_pool_rows_grade_below_tol_after_standardisation(pool):
    shifted = pool * np.linspace(1, 1e4, 12) + 300.0  # wildly different column scales, as in bispectra
    active = build_active_set(shifted, {'name': 'test'})
    assert active.virtual_rows == 0 and not active.regularised
    assert active.grade(shifted).max() <= active.tol + 1e-9
    assert active.grade(shifted[:1] * 5).max() > 1


def test_grade_is_batched_exactly(pool):
    active = build_active_set(pool, {'name': 'test'})
    assert np.allclose(active.grade(pool, batch_rows=7), active.grade(pool), rtol=0, atol=1e-12)
    streamed = np.concatenate(list(active.grade_stream(np.array_split(pool, 5))))
    assert np.array_equal(streamed, active.grade(pool))


@pytest.mark.parametrize(
    'degenerate',
    [
        np.ones((50, 6)) * [1, 2, 3, 4, 5, 6],  # a single environment, repeated
        np.hstack([np.random.default_rng(1).normal(size=(3, 4)), np.zeros((3, 2))]),  # fewer rows than m
        np.hstack([np.random.default_rng(2).normal(size=(40, 4)), np.full((40, 2), 7.0)]),  # constant columns
    ],
)
def test_rank_deficient_pools_are_regularised(degenerate):
    active = build_active_set(degenerate, {'name': 'test'})
    rank = np.linalg.matrix_rank(degenerate - degenerate.mean(axis=0))
    assert active.regularised and active.virtual_rows == 6 - rank
    assert active.grade(degenerate).max() <= active.tol + 1e-9
    novel = degenerate[:1].copy()
    novel[0, -1] += 1.0  # a step along a direction the pool never varies in
    assert active.grade(novel)[0] > 1e3


def test_active_set_round_trips_through_a_file(pool, tmp_path):
    active = build_active_set(pool, {'name': 'snap', 'twojmax': 2})
    active.save(tmp_path / 'set.npz')
    loaded = load_active_set(tmp_path / 'set.npz')
    assert loaded.descriptor == {'name': 'snap', 'twojmax': 2}
    assert np.array_equal(loaded.grade(pool), active.grade(pool))


def test_configuration_grades():
    gamma = np.array([0.1, 3.0, 0.5, 0.2, 0.9, 1.5])
    assert configuration_grades(gamma, [2, 1, 3]).tolist() == [3.0, 0.5, 1.5]
    with pytest.raises(ValueError, match='grades for'):
        configuration_grades(gamma, [2, 2])


def test_selection_enlarges_the_active_set(pool):
    rng = np.random.default_rng(3)
    active = build_active_set(pool, {'name': 'test'})
    candidates = np.vstack([pool[:100], 3 * rng.normal(size=(200, 12)) @ rng.normal(size=(12, 12))])
    candidates = np.vstack([candidates, candidates[150:160]])  # exact duplicates
    selection = select_extrapolative(active, candidates, threshold=2.0)
    gamma = active.grade(candidates)
    assert len(selection.indices) > 0 and selection.duplicates >= 1
    assert np.all(gamma[selection.indices] >= 2.0) and np.all(np.diff(selection.gamma) <= 0)
    assert len(set(selection.indices.tolist())) == len(selection.indices)
    enlarged = selection.active_set
    assert np.linalg.slogdet(enlarged.rows)[1] > np.linalg.slogdet(active.rows)[1]
    preselected = candidates[gamma >= 2.0]
    assert enlarged.grade(preselected).max() <= active.tol + 1e-9
    limited = select_extrapolative(active, candidates, threshold=2.0, limit=3)
    assert len(limited.indices) == 3
    again = select_extrapolative(active, candidates, threshold=2.0, limit=3)
    assert np.array_equal(limited.indices, again.indices)
    assert len(select_extrapolative(active, pool, threshold=2.0).indices) == 0


def test_merge_nearby_centres_uses_minimum_image():
    cell = np.eye(3) * 10.0
    positions = np.array([[0.5, 0, 0], [9.5, 0, 0], [5, 5, 5], [5.5, 5, 5]])
    kept, merged_into = merge_nearby_centres(positions, cell, [True] * 3, np.arange(4), [1, 3, 2, 5], 2.0)
    assert kept.tolist() == [3, 1]
    assert merged_into.tolist() == [1, 1, 3, 3]
    kept, _ = merge_nearby_centres(positions, cell, [False] * 3, np.arange(4), [1, 3, 2, 5], 2.0)
    assert kept.tolist() == [3, 1, 0]
