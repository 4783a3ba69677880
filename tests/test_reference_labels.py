"""A reference potential standing in for DFT: it labels what has no labels, never relabels DFT data, and the
trainer never mixes its labels with DFT labels."""

import ase.io
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.common.structures import structure_from_atoms
from aiida_defectgenome.core.lammps.potentials import bundled_potential
from aiida_defectgenome.core.mlip.potential_evaluation import lammps_labels
from aiida_defectgenome.data.labels import labels_of
from aiida_defectgenome.data.potential_registry import load_potential
from aiida_defectgenome.services.genome import import_genome
from aiida_defectgenome.tools.demo import BASIC_W_DATASET
from aiida_defectgenome.workflows.dft_labeling import DftLabelingWorkChain
from aiida_defectgenome.workflows.training import TrainingWorkChain


def _cells():
    strained = bulk('W', 'bcc', a=3.2, cubic=True).repeat(2)
    strained.cell[0, 1] = 0.3
    rattled = bulk('W', 'bcc', a=3.15, cubic=True).repeat(2)
    rattled.rattle(0.08, seed=4)
    return [strained, rattled]


@pytest.fixture
def mixed_group(aiida_profile, tmp_path):
    """Group `ref-mixed`: two configurations with VASP labels (imported) and two unlabelled cells."""
    path = tmp_path / 'two.extxyz'
    ase.io.write(path, ase.io.read(BASIC_W_DATASET, index=':2'))
    import_genome(path, 'ref-dft', engine='VASP')
    dft = list(orm.load_group('ref-dft').nodes)
    cells = [structure_from_atoms(atoms).store() for atoms in _cells()]
    group, _ = orm.Group.collection.get_or_create('ref-mixed')
    group.add_nodes(dft + cells)
    return dft, cells


def _reference_builder(configurations: str, code):
    builder = DftLabelingWorkChain.get_builder()
    builder.configurations = orm.Str(configurations)
    builder.engine = orm.Str('reference')
    builder.reference_potential = load_potential('meam-W')
    builder.reference_code = code
    return builder


def test_a_reference_potential_labels_the_rest_but_never_relabels_dft(mixed_group, python_code):
    dft, cells = mixed_group
    pointers = [s.base.extras.get('dg_labels') for s in dft]
    results, node = run_get_node(_reference_builder('ref-mixed', python_code))
    assert node.is_finished_ok, node.exit_message
    summary = results['summary'].get_dict()
    assert sorted(summary['labelled']) == sorted(s.uuid for s in cells)
    assert sorted(summary['failed']) == sorted(s.uuid for s in dft)
    for structure, (_, engine) in zip(dft, labels_of(dft)):  # an earlier import may have given its own engine name
        assert not engine.startswith('reference')
        assert f'holds {engine} labels: a reference potential never relabels them' in summary['failed'][structure.uuid]
    assert [s.base.extras.get('dg_labels') for s in dft] == pointers  # the DFT labels are untouched

    expected = lammps_labels(bundled_potential('meam-W'), _cells())
    for (labels, engine), reference in zip(labels_of(cells), expected):
        assert engine == 'reference:meam-W'
        assert labels.energy == pytest.approx(reference.energy, abs=1e-9)
        assert np.allclose(labels.forces, reference.forces, atol=1e-9) and np.abs(labels.forces).max() > 0.1
        assert np.allclose(labels.stress, reference.stress, atol=1e-9) and abs(labels.stress[0, 1]) > 1e-4  # sheared
    table = orm.load_node(cells[0].base.extras.get('dg_labels'))
    assert table.creator.process_label == 'ReferenceLabelsCalculation' and table.creator.inputs.potential.label == 'meam-W'

    again = run_get_node(_reference_builder('ref-mixed', python_code))[1].outputs.summary.get_dict()
    assert (len(again['skipped']), len(again['labelled'])) == (2, 0)  # same potential: not recomputed

    other = _reference_builder('ref-mixed', python_code)  # another reference potential: relabelled, the old pointer kept
    other.reference_potential = load_potential('eam-zhou-W')
    first = [s.base.extras.get('dg_labels') for s in cells]
    assert len(run_get_node(other)[1].outputs.summary['labelled']) == 2
    for structure, previous in zip(cells, first):
        reloaded = orm.load_node(structure.pk)
        assert reloaded.base.extras.get('dg_labels') != previous and reloaded.base.extras.get('dg_labels_history') == [previous]
    assert {engine for _, engine in labels_of([orm.load_node(s.pk) for s in cells])} == {'reference:eam-zhou-W'}


def test_the_trainer_never_mixes_reference_and_dft_labels(mixed_group, python_code):
    dft, cells = mixed_group
    run_get_node(_reference_builder('ref-mixed', python_code))
    group, _ = orm.Group.collection.get_or_create('ref-only')
    group.add_nodes(cells)
    builder = TrainingWorkChain.get_builder_from_protocol(python_code, ['ref-dft', 'ref-only'], protocol='fast')
    _, node = run_get_node(builder)
    assert node.exit_status == TrainingWorkChain.exit_codes.ERROR_MIXED_REFERENCE_LABELS.status
    assert 'reference:meam-W' in node.exit_message and labels_of(dft[:1])[0][1] in node.exit_message
    assert not [n for n in node.called_descendants if n.process_label == 'SnapTrainingCalculation']


@pytest.mark.parametrize('missing', ['reference_potential', 'reference_code'])
def test_reference_engine_needs_its_potential_and_code(aiida_profile, python_code, missing):
    builder = _reference_builder('ref-mixed', python_code)
    del builder[missing]
    with pytest.raises(ValueError, match='engine `reference` needs `reference_potential` .* and `reference_code`'):
        run_get_node(builder)


def test_a_reference_potential_lammps_cannot_run_fails_with_lammps_own_words(mixed_group, python_code):
    from aiida_defectgenome.core.lammps.runtime import potentials_directory
    from aiida_defectgenome.data.potential_registry import register_potential

    broken, _ = register_potential(
        [potentials_directory() / 'W_zhou.eam.alloy'], 'ref-no-such-style', ['W'], 'nonsense/style', check=False
    )
    builder = _reference_builder('ref-mixed', python_code)
    builder.reference_potential = broken
    _, node = run_get_node(builder)
    failed = node.outputs.summary.get_dict()['failed']
    _, cells = mixed_group
    assert {cell.uuid for cell in cells} <= set(failed)
    assert "Unrecognized pair style 'nonsense/style'" in failed[cells[0].uuid], failed[cells[0].uuid]
