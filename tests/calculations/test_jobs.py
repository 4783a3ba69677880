"""The inputs that ``GpawCalculation`` and the package's own jobs (selection, SNAP training, watched MD) write."""

import json
from pathlib import Path

import numpy as np

from aiida_defectgenome.core.jobs import gpaw_single_point

from ..job_cases import GAMMA_MD_WATCH, SELECTION_PARAMETERS, TRAINING_SETTINGS

MLIP3 = Path(__file__).parents[1] / 'fixtures' / 'mlip3'


def test_gpaw_inputs(render, file_regression, data_regression):
    folder, summary = render('gpaw', 'single_point')
    assert (folder / 'dg_gpaw.py').read_text() == Path(gpaw_single_point.__file__).read_text()  # the script that runs
    file_regression.check((folder / gpaw_single_point.PARAMETERS_FILE).read_text(), extension='.json')
    file_regression.check((folder / gpaw_single_point.STRUCTURE_FILE).read_text(), basename='gpaw-structure', extension='.xyz')
    data_regression.check(summary)


def test_selection_links_the_dump_where_it_lies(render, data_regression):
    folder, summary = render('selection', 'polycrystal')
    request = json.loads((folder / 'selection.json').read_text())
    assert request == {**SELECTION_PARAMETERS, 'dumps': ['parent/trajectory.dump']}
    assert summary['remote_symlink_list'] == [['/scratch/dg/lammps-run/trajectory.dump', 'parent/trajectory.dump']]
    data_regression.check(summary)


def test_selection_by_an_mtp_sends_the_mtp_and_the_mlp_to_call(render, data_regression):
    folder, summary = render('selection', 'polycrystal_mtp')
    request = json.loads((folder / 'selection.json').read_text())
    mtp = {'mlp': '/opt/mlip-3/bin/mlp', 'potential': 'mtp.almtp', 'elements': ['W']}
    assert request == {**SELECTION_PARAMETERS, 'dumps': ['parent/trajectory.dump'], 'mtp': mtp}
    assert (folder / 'mtp.almtp').read_bytes() == (MLIP3 / 'trained_nbhmode.almtp').read_bytes()
    data_regression.check(summary)


def test_training_writes_its_settings_and_the_frames(render, data_regression):
    folder, summary = render('snap_training', 'fast_ensemble')
    assert json.loads((folder / 'training.json').read_text()) == TRAINING_SETTINGS
    assert (folder / 'training.extxyz').read_text().count('energy=') == 30
    data_regression.check(summary)


def test_watched_md_writes_the_model_description_beside_its_files(render, data_regression):
    folder, summary = render('gamma_md', 'hot_run_stopped')
    assert json.loads((folder / 'watch.json').read_text()) == GAMMA_MD_WATCH
    description = json.loads((folder / 'potential' / 'potential.json').read_text())
    assert description['pair_style'] == 'eam/alloy' and description['files'] == ['W_zhou.eam.alloy']
    data_regression.check(summary)


def test_reference_labels_send_the_structures_at_full_precision(render, data_regression):
    from ..job_cases import REFERENCE_LABELS

    folder, summary = render('reference_labels', 'periodic_and_open')
    frames = json.loads((folder / 'structures.json').read_text())
    _, inputs = REFERENCE_LABELS['periodic_and_open']
    structures = inputs({'python': None})['structures']
    for frame, key in zip(frames, ('s1', 's2')):  # as stored: AiiDA keeps 14 significant digits
        assert np.allclose(frame['positions'], structures[key].get_ase().positions, rtol=0, atol=1e-12)
    assert [frame['pbc'] for frame in frames] == [[True] * 3, [False] * 3]
    description = json.loads((folder / 'potential' / 'potential.json').read_text())
    assert description['name'] == 'eam-zhou-W' and summary['local_copy_list'] == ['potential/W_zhou.eam.alloy']
    data_regression.check(summary)
