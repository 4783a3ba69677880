"""The D-optimality engine in AiiDA: active sets of groups, gamma as extras, clusters with provenance, CLI."""

import json

import ase.io
import numpy as np
import pytest
from aiida import orm
from ase.build import bulk

from aiida_defectgenome.common.structures import structure_from_atoms
from aiida_defectgenome.core.structures.datasets import labelled_atoms, read_configurations
from aiida_defectgenome.services.d_optimality import (
    active_set_for_group,
    grade_group,
    group_structures,
    select_from_group,
)
from aiida_defectgenome.services.genome import import_genome
from aiida_defectgenome.tools.demo import BASIC_W_DATASET

from . import defect_cells


@pytest.fixture(scope='module')
def basic_subset(tmp_path_factory):
    """A file with every 8th configuration of the W basic set (85 configurations, about 6000 atoms)."""
    path = tmp_path_factory.mktemp('basic') / 'W-basic-subset.extxyz'
    subset = [labelled_atoms(atoms, labels) for atoms, labels in read_configurations(BASIC_W_DATASET)[::8]]
    assert len(subset) == 85
    ase.io.write(path, subset)
    return path


@pytest.fixture
def reference_group(aiida_profile_clean, basic_subset):
    import_genome(basic_subset, 'W-ref')
    return 'W-ref'


@pytest.fixture
def defect_group(aiida_profile):
    from aiida_defectgenome.data.genome import GenomeGroup

    loop, _ = defect_cells.interstitial_loop()
    perfect = bulk('W', 'bcc', a=3.16485, cubic=True) * 3
    group = GenomeGroup(label='W-defects').store()
    group.add_nodes([structure_from_atoms(atoms).store() for atoms in (perfect, loop)])
    return 'W-defects'


def test_active_set_of_a_group_has_provenance_and_is_reused(reference_group):
    node, reused = active_set_for_group(reference_group)
    assert not reused and node.size == 30 and node.base.attributes.get('structures') == 85
    creator = node.creator
    assert creator.process_label == 'compute_active_set'
    descriptor_nodes = [link.node for link in creator.base.links.get_incoming(link_label_filter='descriptors_%').all()]
    assert len(descriptor_nodes) == 2  # 85 structures in chunks of 50
    sources = {
        link.node.uuid
        for array in descriptor_nodes
        for link in array.creator.base.links.get_incoming(link_label_filter='structure_%').all()
    }
    assert sources == {n.uuid for n in group_structures(reference_group)}
    uuid, atom = next(row for row in node.base.attributes.get('source_atoms') if row is not None)
    assert uuid in sources and atom >= 0
    again, reused = active_set_for_group(reference_group)
    assert reused and again.uuid == node.uuid
    other, reused = active_set_for_group(reference_group, {'name': 'snap', 'twojmax': 4, 'cutoff': 5.0})
    assert not reused and other.size == 14
    orm.load_group(reference_group).add_nodes(structure_from_atoms(bulk('W', 'bcc', a=3.3)).store())
    changed, reused = active_set_for_group(reference_group)
    assert not reused and changed.uuid != node.uuid


def test_gamma_lands_on_the_configurations_as_queryable_extras(reference_group, defect_group):
    node, _ = active_set_for_group(reference_group)
    own = grade_group(node, reference_group)
    assert own.get_array('gamma').max() <= node.get_active_set().tol + 1e-9
    grades = grade_group(node, defect_group)
    assert grades.creator.process_label == 'compute_gamma'
    maxima = dict(zip(grades.base.attributes.get('structures'), grades.get_array('maxima')))
    query = orm.QueryBuilder().append(
        orm.StructureData, filters={'extras.dg_gamma_max': {'>': 2.0}, 'extras.dg_gamma_active_set': node.uuid}, project='uuid'
    )
    flagged = set(query.all(flat=True))
    assert flagged == {uuid for uuid, value in maxima.items() if value > 2.0}
    perfect, loop = group_structures(defect_group)
    assert maxima[perfect.uuid] < 1.0 and loop.uuid in flagged


def test_selection_cuts_clusters_traceable_to_their_source(reference_group, defect_group):
    node, _ = active_set_for_group(reference_group)
    outputs, centres = select_from_group(node, defect_group, {'threshold': 2.0, 'vacuum': 8.0, 'limit': 4}, 'W-clusters')
    clusters = [outputs[key] for key in sorted(outputs) if key.startswith('cluster_')]
    padded = [outputs[key] for key in sorted(outputs) if key.startswith('padded_')]
    perfect, loop = group_structures(defect_group)
    assert 0 < len(clusters) <= 4 and len(padded) == len(clusters)
    assert len(centres['atom']) <= 4 and set(centres['uuid']) == {loop.uuid}
    assert outputs['summary']['centres'] == len(centres['atom'])
    assert {n.uuid for n in orm.load_group('W-clusters').nodes} == {n.uuid for n in clusters}
    for cluster, box in zip(clusters, padded):
        extras = cluster.base.extras.all
        assert extras['dg_source'] == loop.uuid and extras['dg_gamma'] >= 2.0
        assert extras['dg_core_atoms'] == len(cluster.sites) and extras['dg_variant'] == 'cluster'
        inputs = {link.node.uuid for link in cluster.creator.base.links.get_incoming().all()}
        assert loop.uuid in inputs and centres.uuid in inputs and perfect.uuid not in inputs
        centre = np.array(loop.sites[extras['dg_centre_atom']].position)
        assert np.allclose(np.array(cluster.sites[0].position) - box_translation(cluster, loop, extras), centre)
        assert box.base.extras.get('dg_variant') == 'padded' and all(box.pbc)
    nothing, centres = select_from_group(node, reference_group, {'threshold': 2.0})
    assert nothing == {} and centres['atom'] == []


def box_translation(cluster, source, extras):
    """The cluster's central atom sits at its source position plus one translation; recover it."""
    from aiida_defectgenome.common.structures import atoms_from_structure
    from aiida_defectgenome.core.doptimality.clusters import cut_neighbourhood

    return cut_neighbourhood(atoms_from_structure(source), extras['dg_centre_atom']).info['translation']


def test_gamma_command_json_contract(cli, reference_group, tmp_path):
    candidates = tmp_path / 'candidates.extxyz'
    loop, _ = defect_cells.interstitial_loop()
    ase.io.write(candidates, [bulk('W', 'bcc', a=3.16485, cubic=True) * 2, loop])
    result = cli(
        'gamma',
        '--reference',
        reference_group,
        '--candidates',
        candidates,
        '--json',
        tmp_path / 'g.json',
        '--plot',
        tmp_path / 'g.png',
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / 'g.json').read_text())
    assert data['descriptor'] == 'snap' and data['m'] == 30 and data['active_set_size'] == 30
    assert [c['index'] for c in data['configurations']] == [0, 1]
    assert [c['natoms'] for c in data['configurations']] == [16, len(loop)]
    assert data['configurations'][0]['gamma_max'] < 1 < 2 < data['configurations'][1]['gamma_max']
    assert 0 < data['fraction_above_2'] < data['fraction_above_1'] < 1
    assert (tmp_path / 'g.png').read_bytes()[:4] == b'\x89PNG'
    grouped = cli('gamma', '--reference', reference_group, '--candidates', reference_group, '--json', tmp_path / 'own.json')
    assert 'reused node' in grouped.output and 'Stored gamma as extras' in grouped.output
    own = json.loads((tmp_path / 'own.json').read_text())
    assert len(own['configurations']) == 85 and own['gamma_max'] <= 1.001 and own['fraction_above_2'] == 0


def test_gamma_command_on_files_and_dumps(cli, basic_subset, tmp_path):
    from aiida_defectgenome.core.lammps.library import load_atoms, open_lammps

    atoms = bulk('W', 'bcc', a=3.16485, cubic=True) * 3
    atoms.rattle(0.05, seed=3)
    lmp = open_lammps()
    load_atoms(lmp, atoms)
    lmp.commands_list(
        ['pair_style zero 5.0', 'pair_coeff * *', f'dump d all custom 1 {tmp_path / "run.dump"} id type x y z', 'run 1']
    )
    lmp.close()
    result = cli(
        'gamma', '--reference', basic_subset, '--candidates', tmp_path / 'run.dump', '--species', 'W', '--json', tmp_path / 'd.json'
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / 'd.json').read_text())
    assert len(data['configurations']) == 2 and data['configurations'][0]['natoms'] == 54
    assert data['active_set_uuid'] is None  # two files: nothing stored
    missing_species = cli('gamma', '--reference', basic_subset, '--candidates', tmp_path / 'run.dump')
    assert missing_species.exit_code == 1 and 'give the species of each type' in missing_species.output
    unknown = cli('gamma', '--reference', 'no-such-group', '--candidates', tmp_path / 'run.dump', '--species', 'W')
    assert unknown.exit_code == 1 and '`no-such-group` is neither a file nor a group' in unknown.output
    assert 'Traceback' not in unknown.output
