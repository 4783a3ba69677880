"""The demo campaign end to end (EIP sampling -> PCC-GCMC -> labels -> SNAP -> active learning) through the
daemon, with a restart in the middle, labelled by a reference potential (meam-W, a surrogate for DFT: GPAW
would cost 15 minutes here); the provenance of every labelled configuration. The same campaign with GPAW
labels is the README's demo command, run on a fresh AIIDA_PATH by `test_slow.py`, which checks that every
label there comes from a GPAW run of its configuration."""

import time

import ase.io
import pytest
from aiida import orm
from aiida.common.links import LinkType

from aiida_defectgenome.services.genome import import_genome
from aiida_defectgenome.tools.demo import BASIC_W_DATASET
from aiida_defectgenome.workflows.campaign import DefectGenomeWorkChain

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # 3 minutes on 2 idle cores


#: Configurations of the W basic set the campaign starts from (the README demo takes all 678; here every
#: fourth, so that copying, relabelling and training take a quarter of the time).
BASIC_SUBSET = slice(None, None, 4)


@pytest.fixture
def basic_set(aiida_profile, tmp_path):
    """A quarter of the W basic set under its own label (other tests import parts of it as `W-basic`)."""
    if not orm.QueryBuilder().append(orm.Group, filters={'label': 'campaign-basic'}).count():
        path = tmp_path / 'campaign-basic.extxyz'
        ase.io.write(path, ase.io.read(BASIC_W_DATASET, index=':')[BASIC_SUBSET])
        import_genome(path, 'campaign-basic', engine='VASP')
    return 'campaign-basic'


def _ancestors(node) -> dict:
    """Process labels, potential labels and UUIDs of everything ``node`` descends from."""
    from aiida_defectgenome.data.potential import InteratomicPotentialData
    from aiida_defectgenome.tools.provenance import ancestors

    pks = {'id': {'in': list(ancestors(node))}}

    def projected(cls, key):
        return set(orm.QueryBuilder().append(cls, filters=pks, project=key).all(flat=True))

    return {
        'processes': projected(orm.ProcessNode, 'attributes.process_label'),
        'potentials': projected(InteratomicPotentialData, 'label'),
        'uuids': projected(orm.Node, 'uuid'),
    }


def _labelled(prefix: str, copies: bool = True) -> list:
    """The labelled configurations of the campaign's groups; without the reference's copies of the basic set
    (group ``<prefix>/basic-reference``) unless ``copies``."""
    groups = {'label': {'like': f'{prefix}/%'}}
    if not copies:
        groups = {'and': [groups, {'label': {'!==': f'{prefix}/basic-reference'}}]}
    query = orm.QueryBuilder().append(orm.Group, filters=groups, tag='group')
    query.append(orm.StructureData, with_group='group', filters={'extras': {'has_key': 'dg_labels'}})
    return query.distinct().all(flat=True)


def _check_provenance(prefix: str) -> int:
    """Every labelled configuration descends from the EIP, a LAMMPS run and (PCC cells) its cluster and
    box run; its labels come from a run of the reference labeler on exactly it. Returns how many were checked."""
    configurations = _labelled(prefix, copies=False)
    for structure in configurations:
        ancestry = _ancestors(structure)
        processes = ancestry['processes']
        assert 'eam-zhou-W' in ancestry['potentials'], structure.pk
        assert 'LammpsCalculation' in processes and 'SelectionCalculation' in processes, structure.pk
        cluster = structure.base.extras.get('dg_cluster', None)
        if cluster:  # a PCC-GCMC cell: its cluster and the box runs are ancestors
            assert cluster in ancestry['uuids']
            assert 'assess_pcc_boxes' in processes
        if structure.base.extras.get('dg_iteration', None):  # found by active learning
            assert 'GammaMdCalculation' in processes and 'SnapTrainingCalculation' in processes
        table = orm.load_node(structure.base.extras.get('dg_labels'))
        assert table.creator.process_label == 'ReferenceLabelsCalculation' and table.creator.is_finished_ok
        assert structure.pk in {node.pk for node in _structure_inputs(table.creator)}
    return len(configurations)


@pytest.fixture
def broken_eip(aiida_profile, tmp_path):
    """An EAM file cut after its header: LAMMPS stops with "premature end of EAM potential file"."""
    from aiida_defectgenome.core.lammps.potentials import bundled_potential
    from aiida_defectgenome.data.potential_registry import register_potential

    source = bundled_potential('eam-zhou-W').files[0]
    path = tmp_path / 'W_broken.eam.alloy'
    path.write_text(''.join(source.read_text().splitlines(keepends=True)[:8]))
    return register_potential([path], 'broken-W', ['W'], 'eam/alloy', check=False)[0]


def _kill_unless_terminated(node) -> None:
    from aiida.engine.processes import control

    if not node.is_terminated:
        control.kill_processes([node], timeout=60, wait=True)


def _await(node, seconds: int) -> None:
    deadline = time.time() + seconds
    while not node.is_terminated:
        assert time.time() < deadline, f'{node.process_label}<{node.pk}> did not finish in {seconds} s'
        time.sleep(5)


@pytest.mark.timeout(1800)
def test_demo_campaign_through_the_daemon_with_a_restart(
    cli, basic_set, lammps_code, python_code, broken_eip, tmp_path, started_daemon_client, request
):
    """The demo with a second, broken EIP and `meam-W` labels, submitted to the daemon, which is stopped while
    a PCC-GCMC box run is under way and started again: the campaign finishes, nothing is labelled twice, the
    broken EIP's runs fail and are reported. The basic set is copied and labelled by the reference (its DFT
    labels untouched); the vacuum-padded clusters (the "C" set) are labelled too, and not trained on."""
    from aiida.engine import submit

    from aiida_defectgenome.data.labels import labels_of

    pointers = {s.pk: s.base.extras.get('dg_labels') for s in orm.load_group(basic_set).nodes}
    builder = DefectGenomeWorkChain.get_builder_from_protocol(
        lammps_code, python_code, None, basic_group=basic_set, protocol='demo', group_prefix='ci-demo',
        overrides={'potentials': ['eam-zhou-W', 'broken-W']}, reference_labeler='meam-W',
    )  # fmt: skip
    builder.label_clusters, builder.vacuum = orm.Bool(True), orm.Float(3.0)
    node = submit(builder)
    request.addfinalizer(lambda: _kill_unless_terminated(node))  # a failed test leaves no campaign running

    def box_runs():
        return [n for n in node.called_descendants if n.process_label == 'LammpsCalculation' and 'box_' in _call(n)]

    deadline = time.time() + 900
    while not any(not job.is_terminated for job in box_runs()):
        assert time.time() < deadline and not node.is_terminated, 'no PCC-GCMC box run started'
        time.sleep(1)
    started_daemon_client.stop_daemon(wait=True, timeout=120)  # circus answers slowly on a busy machine
    assert not node.is_terminated
    time.sleep(5)
    started_daemon_client.start_daemon(timeout=120)
    _await(node, 1500)
    assert node.is_finished_ok, node.exit_message
    labelling = [n for n in node.called_descendants if n.process_label == 'ReferenceLabelsCalculation' and n.is_finished_ok]
    labelled = [s.pk for n in labelling for s in _structure_inputs(n)]
    assert labelled and len(labelled) == len(set(labelled))  # nothing labelled twice
    assert not [n for n in node.called_descendants if n.process_label == 'GpawCalculation']

    summary = node.outputs.summary.get_dict()
    assert summary['eip_sampling']['clusters'] >= 1 and summary['pcc_gcmc']['cells'] >= 1
    assert summary['dft_labeling_cells']['labelled'] >= 1 and summary['active_learning']['rounds']
    padded = orm.load_group('ci-demo/eip-clusters-padded')
    assert padded.count() == summary['eip_sampling']['clusters'] == summary['dft_labeling_padded']['labelled']
    clusters = {cluster.pk for cluster in orm.load_group('ci-demo/eip-clusters').nodes}
    for structure in padded.nodes:
        assert structure.creator.process_label == 'vacuum_padded' and structure.creator.inputs.cluster.pk in clusters
        assert structure.pbc == (True, True, True)
        assert structure.get_ase().cell.lengths().min() >= 6.0  # 3 A of vacuum on every side
    assert 'ci-demo/eip-clusters-padded' not in summary['active_learning']['groups']
    assert _check_provenance('ci-demo') >= summary['dft_labeling_cells']['labelled']
    assert node.outputs.potential.pair_style == 'snap'
    for workflow in [node, *(n for n in node.called_descendants if isinstance(n, orm.WorkflowNode))]:
        returned = workflow.base.links.get_outgoing(link_type=LinkType.RETURN).all_nodes()
        assert all(output.creator is not None for output in returned), workflow.process_label  # made by a calculation
    sampling = next(n for n in node.called if n.process_label == 'EipSamplingWorkChain')
    failed = sampling.outputs.summary['failed']
    assert len(failed) == 3 and all('broken_W' in line for line in failed)  # the three loops with the broken EIP

    # the reference labels: the basic set copied and relabelled, its DFT labels kept; training sees one engine
    copies = orm.load_group('ci-demo/basic-reference')
    assert copies.count() == len(pointers) and summary['reference']['potential'] == 'meam-W'
    campaign_labelled = _labelled('ci-demo')
    assert {engine for _, engine in labels_of(campaign_labelled)} == {'reference:meam-W'}
    assert len(campaign_labelled) > len(pointers)  # the copies and the new cells
    assert {s.pk: s.base.extras.get('dg_labels') for s in orm.load_group(basic_set).nodes} == pointers
    sources = {frame.info['dg_source'] for frame in _training_frames(node)}
    assert len(sources) == 1 and next(iter(sources)).startswith('reference:meam-W')

    # the whole campaign travels as an archive: a fresh profile gets every node and link, and the final
    # model still descends from every configuration, the basic set's and the campaign's
    from .test_genome_sharing import archive_round_trip

    exported, counts = archive_round_trip(node, node.outputs.potential, tmp_path)
    assert (counts['nodes'], counts['links']) == exported
    assert counts['structures'] > 2 * len(pointers)  # the basic set, its reference copies and the campaign's cells

    status = cli('campaign', 'status', node.pk)
    assert status.exit_code == 0, status.output
    assert 'finished [0]' in status.output and 'gamma_max of the watched MD runs' in status.output
    assert 'ci-demo/pcc-gcmc' in status.output and status.output.count('failed: ') >= 3
    assert 'labels by: reference potential meam-W (a surrogate, not DFT)' in status.output
    assert 'running ' not in status.output and 'orphaned ' not in status.output  # the restart left nothing behind

    # `genome show --provenance` tells an active-learning cell's chain: model, watched MD, snapshot, box, labels
    found = [s for s in campaign_labelled if s.base.extras.get('dg_iteration', None)]
    assert found, 'the demo round of active learning labelled no cell'
    query = orm.QueryBuilder().append(orm.Group, tag='g', project='label')
    group = query.append(orm.StructureData, with_group='g', filters={'id': found[0].pk}).first(flat=True)
    shown = cli('genome', 'show', group, '--provenance', found[0].uuid)
    assert shown.exit_code == 0 and 'watched MLIP MD (md 3000 K 400 steps)' in shown.output
    assert 'reference:meam-W: ReferenceLabelsCalculation<' in shown.output, shown.output


def _structure_inputs(process) -> list:
    return process.base.links.get_incoming(node_class=orm.StructureData).all_nodes()


def _call(process) -> str:
    """The link label under which ``process`` was called (``box_0`` for a PCC-GCMC box run)."""
    return process.base.links.get_incoming(link_type=LinkType.CALL_CALC).one().link_label


def _training_frames(campaign):
    import io

    training = max((n for n in campaign.called_descendants if n.process_label == 'TrainingWorkChain'), key=lambda n: n.ctime)
    with training.outputs.training_set.open(mode='r') as handle:
        return ase.io.read(io.StringIO(handle.read()), index=':', format='extxyz')
