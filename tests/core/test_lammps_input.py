import numpy as np
import pytest

from aiida_defectgenome.core.lammps import inputs as lammps_input


@pytest.mark.parametrize('seed', range(5))
def test_lammps_frame_is_lower_triangular_rotation(seed):
    rng = np.random.default_rng(seed)
    cell = np.eye(3) * 5 + rng.normal(scale=1.0, size=(3, 3))
    if np.linalg.det(cell) < 0:
        cell[[0, 1]] = cell[[1, 0]]
    lammps_cell, rotation = lammps_input.lammps_frame(cell)
    assert np.allclose(np.triu(lammps_cell, 1), 0)
    assert (np.diag(lammps_cell) > 0).all()
    assert np.allclose(cell @ rotation, lammps_cell)
    assert np.allclose(rotation @ rotation.T, np.eye(3))
    assert np.isclose(np.linalg.det(rotation), 1.0)


def test_left_handed_or_flat_cells_are_refused():
    with pytest.raises(ValueError, match='left-handed'):
        lammps_input.lammps_frame(np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match='no volume'):
        lammps_input.lammps_frame(np.diag([1.0, 1.0, 0.0]))


def test_atoms_are_wrapped_along_periodic_axes_only():
    cell = np.diag([2.0, 2.0, 2.0])
    fractional = lammps_input.fractional_in_cell([[2.5, -0.5, 1.0]], cell, [True, True, False])
    assert np.allclose(fractional, [[0.25, 0.75, 0.5]])
    with pytest.raises(ValueError, match='outside the cell along a non-periodic axis'):
        lammps_input.fractional_in_cell([[1.0, 1.0, 2.5]], cell, [True, True, False])


@pytest.mark.parametrize(
    'parameters, message',
    [
        ({'stage': []}, 'unknown LAMMPS parameter'),
        ({'stages': [{'type': 'anneal'}]}, 'needs a type'),
        ({'stages': [{'type': 'minimize', 'box_relax': 'xyz'}]}, 'box_relax'),
        ({'stages': [{'type': 'md', 'seed': 0}]}, 'seed'),
        ({'stages': [{'type': 'md', 'timestep': -1.0}]}, 'positive'),
        ({'stages': [{'type': 'md', 'temp': 300}]}, 'unknown key'),
        ({'thermo_every': 0}, 'thermo_every'),
    ],
)
def test_bad_parameters_name_the_problem(parameters, message):
    with pytest.raises(ValueError, match=message):
        lammps_input.validate_parameters(parameters)


def test_render_input_has_every_stage_and_the_final_outputs():
    parameters = lammps_input.validate_parameters(
        {'stages': [{'type': 'minimize', 'box_relax': 'aniso'}, {'type': 'md', 'ensemble': 'npt', 'steps': 7}]}
    )
    script = lammps_input.render_input(parameters, ['pair_style eam/alloy', 'pair_coeff * * W.eam W'], [True] * 3)
    assert 'fix dg_box all box/relax aniso 0 vmax 0.001' in script
    assert 'fix dg_md all npt temp 300 300 0.1 iso 0 0 1' in script
    assert 'run 7' in script and 'boundary p p p' in script
    assert lammps_input.FINAL_DUMP in script and lammps_input.FINAL_JSON in script
    with pytest.raises(ValueError, match='periodic along all three axes'):
        lammps_input.render_input(parameters, [], [True, True, False])
