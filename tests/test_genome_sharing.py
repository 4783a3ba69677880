"""Sharing and inspecting genomes: a trained model's provenance survives `verdi archive` export and import into
a fresh profile; a genome exports to pacemaker's DataFrame; `genome stats` grades groups against a reference."""

import json
import os
import subprocess
import sys

import ase.io
import numpy as np
import pandas as pd
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_defectgenome.data.labels import labels_of
from aiida_defectgenome.tools.demo import BASIC_W_DATASET

_COUNT_IN_FRESH_PROFILE = """
import json, sys
from aiida import orm
from aiida.tools.archive import import_archive
from aiida_defectgenome.tools.environment import ensure_profile
ensure_profile('roundtrip')
import_archive(sys.argv[1])
nodes = orm.QueryBuilder().append(orm.Node).count()
links = orm.QueryBuilder().append(orm.Node, tag='a').append(orm.Node, with_incoming='a').count()
from aiida_defectgenome.tools.provenance import ancestors
made_from = list(ancestors(orm.load_node(sys.argv[2])))
structures = orm.QueryBuilder().append(orm.StructureData, filters={'id': {'in': made_from}}).count()
print(json.dumps({'nodes': nodes, 'links': links, 'structures': structures}))
"""


def archive_round_trip(node, potential, tmp_path) -> tuple[tuple[int, int], dict]:
    """Export ``node`` (and what it needs) to an archive, import it into a fresh profile in another process;
    return the archive's ``(nodes, links)`` and the fresh profile's ``nodes``, ``links`` and ``structures``
    (those ``potential`` descends from)."""
    from aiida.tools.archive import create_archive
    from aiida.tools.archive.abstract import get_format

    archive = tmp_path / 'export.aiida'
    create_archive([node], filename=archive)
    with get_format().open(archive, 'r') as reader:
        nodes = reader.querybuilder().append(orm.Node).count()
        links = reader.querybuilder().append(orm.Node, tag='a').append(orm.Node, with_incoming='a').count()
    env = {**os.environ, 'AIIDA_PATH': str(tmp_path / 'fresh')}
    done = subprocess.run([sys.executable, '-c', _COUNT_IN_FRESH_PROFILE, str(archive), potential.uuid],
                          env=env, capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return (nodes, links), json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def small_genome(tmp_path):
    path = tmp_path / 'w-small.extxyz'
    ase.io.write(path, ase.io.read(BASIC_W_DATASET, index=':40'))
    from aiida_defectgenome.services.genome import import_genome

    import_genome(path, 'w-small')
    return 'w-small'


def test_archive_round_trip_keeps_every_node_and_link(aiida_profile, python_code, small_genome, tmp_path):
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    builder = TrainingWorkChain.get_builder_from_protocol(python_code, [small_genome], protocol='fast')
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    exported, counts = archive_round_trip(node, results['potential'], tmp_path)
    assert (counts['nodes'], counts['links']) == exported
    assert counts['structures'] == 40  # the model still descends from every configuration it was trained on


def test_genome_exports_to_pacemaker_dataframe(cli, small_genome, tmp_path):
    output = tmp_path / 'w-small.pckl.gzip'
    result = cli('genome', 'export', small_genome, '--format', 'pacemaker', '--output', output)
    assert result.exit_code == 0, result.output
    frame = pd.read_pickle(output, compression='gzip')
    frames = ase.io.read(BASIC_W_DATASET, index=':40')
    assert len(frame) == 40 and set(frame['dg_group']) == {small_genome}
    assert sorted(frame['energy']) == pytest.approx(sorted(a.get_potential_energy() for a in frames))
    assert all(orm.load_node(uuid).get_ase().get_chemical_formula() for uuid in frame['name'][:3])


def _cfg_blocks(text: str) -> list[dict]:
    """Numbers of each block of an MLIP-3 .cfg, read line by line as mlp does."""
    blocks = []
    for block in text.split('BEGIN_CFG')[1:]:
        lines = [line.strip() for line in block.split('END_CFG')[0].strip().splitlines()]
        size = int(lines[lines.index('Size') + 1])
        start = next(i for i, line in enumerate(lines) if line.startswith('AtomData:')) + 1
        atoms = np.array([line.split() for line in lines[start : start + size]], dtype=float)
        entry = {'size': size, 'atoms': atoms, 'energy': float(lines[lines.index('Energy') + 1])}
        if 'Supercell' in lines:
            i = lines.index('Supercell')
            entry['cell'] = np.array([line.split() for line in lines[i + 1 : i + 4]], dtype=float)
        stress = [i for i, line in enumerate(lines) if line.startswith('PlusStress:')]
        if stress:
            assert lines[stress[0]].split()[1:] == ['xx', 'yy', 'zz', 'yz', 'xz', 'xy']
            entry['plus_stress'] = np.array(lines[stress[0] + 1].split(), dtype=float)
        entry['features'] = dict(line.split()[1:3] for line in lines if line.startswith('Feature'))
        blocks.append(entry)
    return blocks


def test_genome_exports_to_mlip3_cfg(cli, small_genome, tmp_path):
    output = tmp_path / 'w-small.cfg'
    result = cli('genome', 'export', small_genome, '--format', 'mlip3', '--output', output)
    assert result.exit_code == 0, result.output
    blocks = _cfg_blocks(output.read_text())
    assert len(blocks) == 40
    nodes = [orm.load_node(block['features']['uuid']) for block in blocks]
    assert {node.pk for node in nodes} == {node.pk for node in orm.load_group(small_genome).nodes}
    for block, node, (labels, _) in zip(blocks, nodes, labels_of(nodes)):
        atoms = node.get_ase()
        assert block['size'] == len(atoms) and np.allclose(block['atoms'][:, 0], np.arange(1, len(atoms) + 1))
        assert set(block['atoms'][:, 1]) == {0.0}  # W is type 0
        assert np.allclose(block['atoms'][:, 2:5], atoms.positions, atol=1e-8)
        assert np.allclose(block['atoms'][:, 5:8], labels.forces, atol=1e-8)
        assert block['energy'] == pytest.approx(labels.energy, abs=1e-8)
        assert 'plus_stress' not in block  # the W basic set has no stresses (the virial sign: tests/core)


def test_genome_stats_grade_groups_against_a_reference(cli, small_genome, tmp_path):
    from aiida_defectgenome.services.genome import import_genome

    path = tmp_path / 'w-other.extxyz'
    ase.io.write(path, ase.io.read(BASIC_W_DATASET, index='400:420'))
    import_genome(path, 'w-other')
    plot = tmp_path / 'gamma.png'
    result = cli('genome', 'stats', small_genome, 'w-other', '--reference', small_genome, '--plot', plot, '--json')
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats['w-small']['configurations'] == 40 and stats['w-other']['configurations'] == 20
    assert stats['w-small']['gamma']['max'] <= 1.001 + 1e-6  # the reference interpolates itself
    assert stats['w-other']['gamma']['max'] > 1  # 20 configurations the reference has not seen
    assert -13.5 < stats['w-other']['energy_per_atom']['mean'] < -12
    assert plot.read_bytes()[:4] == b'\x89PNG'
    bad = cli('genome', 'stats', small_genome, '--plot', plot)
    assert bad.exit_code != 0 and '--plot needs --reference' in bad.output


def test_show_provenance_of_an_imported_configuration_used_by_a_model(cli, python_code, small_genome):
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    results, node = run_get_node(TrainingWorkChain.get_builder_from_protocol(python_code, [small_genome], protocol='fast'))
    assert node.is_finished_ok, node.exit_message
    member = next(iter(orm.load_group(small_genome).nodes))
    result = cli('genome', 'show', small_genome, '--provenance', member.uuid[:8])
    assert result.exit_code == 0, result.output
    assert 'origin       made by import_configurations<' in result.output
    # the first import of this configuration, with its engine (earlier tests may own it)
    source = member.creator.inputs.source.filename
    engine = orm.load_node(member.base.extras.get('dg_labels')).base.attributes.get('engine')
    assert f'DFT run      {engine} labels imported from {source} by import_configurations<{member.creator.pk}>' in result.output
    models = next(line for line in result.output.splitlines() if line.strip().startswith('models'))
    assert f'{results["potential"].label} (SnapTrainingCalculation<' in models  # (earlier tests' models may be there too)
    missing = cli('genome', 'show', small_genome, '--provenance', 'ffffffff')
    assert missing.exit_code != 0 and 'no configuration of `w-small` has UUID ffffffff' in missing.output


def test_import_takes_a_relative_path(cli, tmp_path, monkeypatch):
    ase.io.write(tmp_path / 'w-rel.extxyz', ase.io.read(BASIC_W_DATASET, index='100:103'))
    monkeypatch.chdir(tmp_path)
    result = cli('genome', 'import', 'w-rel.extxyz', '--group', 'w-rel')
    assert result.exit_code == 0, result.output
    assert len(orm.load_group('w-rel').nodes) == 3
