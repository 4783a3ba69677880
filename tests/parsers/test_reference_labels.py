"""``ReferenceLabelsParser`` on the files a real reference-labels job retrieved (``fixtures/reference_labels``):
a strained periodic cell and an open 16-atom cluster labelled by EAM-Zhou W."""

import numpy as np
import pytest

from aiida_defectgenome.core.lammps.potentials import bundled_potential
from aiida_defectgenome.core.mlip.potential_evaluation import lammps_labels
from aiida_defectgenome.data.labels import labels_rows

from ..job_cases import REFERENCE_LABELS
from .conftest import NO_CODES, plain


def test_one_row_per_configuration_equal_to_labels_computed_here(parse, data_regression):
    status, _, outputs = parse('reference_labels', 'periodic_and_open')
    assert status == 0 and set(outputs) == {'labels'}
    table = outputs['labels']
    assert table.base.attributes.get('engine') == 'reference:eam-zhou-W'
    rows = labels_rows(table)
    _, inputs = REFERENCE_LABELS['periodic_and_open']
    structures = inputs(NO_CODES)['structures']
    here = lammps_labels(bundled_potential('eam-zhou-W'), [structures[key].get_ase() for key in sorted(structures)])
    for row, expected in zip(rows, here):
        assert row.energy == pytest.approx(expected.energy, abs=1e-9) and np.allclose(row.forces, expected.forces, atol=1e-9)
    assert rows[0].stress is not None and rows[1].stress is None  # the open cluster has no stress
    attributes = dict(table.base.attributes.all)
    attributes['settings'].pop('potential')  # the UUID of the potential node this test made
    data_regression.check({'labels': plain(table), 'attributes': attributes})


def test_fewer_labels_than_configurations_is_an_unreadable_output(generate_calc_job_node, tmp_path):
    import json

    from aiida.plugins import ParserFactory

    source = tmp_path / 'labels.json'
    _, inputs = REFERENCE_LABELS['periodic_and_open']
    linked = {k: v for k, v in inputs(NO_CODES).items() if v is not None}
    source.write_text(json.dumps([{'energy': -1.0, 'forces': [[0.0, 0.0, 0.0]] * 4, 'stress': None}]))
    node = generate_calc_job_node('defectgenome.reference_labels', tmp_path, linked)
    _, parsing = ParserFactory('defectgenome.reference_labels').parse_from_node(node, store_provenance=False)
    assert parsing.exit_status == 301 and '1 labelled configurations for 2 inputs' in parsing.exit_message
