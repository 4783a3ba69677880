"""A LammpsCalculation submitted to the daemon of the test profile (SQLite + built-in ZeroMQ broker)."""

import pytest

from aiida_defectgenome.calculations.lammps import LammpsCalculation


def test_daemon_runs_a_lammps_relaxation(lammps_inputs, bcc_w, submit_and_await):
    parameters = {'stages': [{'type': 'minimize', 'box_relax': 'iso', 'ftol': 1e-10}]}
    node = submit_and_await(LammpsCalculation, timeout=180, **lammps_inputs(parameters, structure=bcc_w(a=3.2)))
    assert node.is_finished_ok, node.exit_message
    assert node.outputs.output_parameters['energy_per_atom'] == pytest.approx(-8.760, abs=5e-4)
