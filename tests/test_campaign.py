"""The demo campaign end to end (EIP sampling -> PCC-GCMC -> GPAW -> SNAP -> active learning) through the
daemon, with a restart in the middle; the provenance of every labelled configuration. The README's demo
command (in this process, a fresh AIIDA_PATH) is `test_slow.py`'s."""

import time

import ase.io
import pytest
from aiida import orm

from aiida_defectgenome.tools.demo import BASIC_W_DATASET
from aiida_defectgenome.tools.genome import import_genome
from aiida_defectgenome.workflows.campaign import DefectGenomeWorkChain

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # minutes each on 2 idle cores


@pytest.fixture
def campaign_codes(lammps_code, python_code, gpaw_code):
    return ['--lammps-code', lammps_code.full_label, '--python-code', python_code.full_label, '--dft-code', gpaw_code.full_label]


@pytest.fixture
def basic_set(aiida_profile, tmp_path):
    """The W basic set under its own label (other tests import parts of it as `W-basic`)."""
    if not orm.QueryBuilder().append(orm.Group, filters={'label': 'campaign-basic'}).count():
        path = tmp_path / 'campaign-basic.extxyz'
        ase.io.write(path, ase.io.read(BASIC_W_DATASET, index=':'))
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


def _labelled(prefix: str) -> list:
    query = orm.QueryBuilder().append(orm.Group, filters={'label': {'like': f'{prefix}/%'}}, tag='group')
    query.append(orm.StructureData, with_group='group', filters={'extras': {'has_key': 'dg_labels'}})
    return query.all(flat=True)


def _check_provenance(prefix: str) -> int:
    """Every labelled configuration descends from the EIP, a LAMMPS run and (PCC cells) its cluster and
    box run; its labels come from a GPAW run of exactly it. Returns how many were checked."""
    configurations = _labelled(prefix)
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
        assert table.creator.process_label == 'GpawCalculation' and table.creator.inputs.structure.pk == structure.pk
    return len(configurations)


@pytest.fixture
def broken_eip(aiida_profile, tmp_path):
    """An EAM file cut after its header: LAMMPS stops with "premature end of EAM potential file"."""
    from aiida_defectgenome.core.potentials import bundled_potential
    from aiida_defectgenome.tools.potentials import register_potential

    source = bundled_potential('eam-zhou-W').files[0]
    path = tmp_path / 'W_broken.eam.alloy'
    path.write_text(''.join(source.read_text().splitlines(keepends=True)[:8]))
    return register_potential([path], 'broken-W', ['W'], 'eam/alloy')[0]


def _await(node, seconds: int) -> None:
    deadline = time.time() + seconds
    while not node.is_terminated:
        assert time.time() < deadline, f'{node.process_label}<{node.pk}> did not finish in {seconds} s'
        time.sleep(5)


@pytest.mark.timeout(3000)
def test_demo_campaign_through_the_daemon_with_a_restart(
    cli, basic_set, lammps_code, python_code, gpaw_code, broken_eip, tmp_path, started_daemon_client
):
    """The demo with a second, broken EIP, submitted to the daemon, which is stopped while a DFT job runs
    and started again: the campaign finishes, nothing is labelled twice, the broken EIP's runs fail and are
    reported. The vacuum-padded clusters (the "C" set) are labelled too, and not trained on. One campaign
    for all of this: each costs minutes of GPAW."""
    from aiida.engine import submit

    builder = DefectGenomeWorkChain.get_builder_from_protocol(
        lammps_code, python_code, gpaw_code, basic_group=basic_set, protocol='demo', group_prefix='ci-demo',
        overrides={'potentials': ['eam-zhou-W', 'broken-W']},
    )  # fmt: skip
    builder.label_clusters, builder.vacuum = orm.Bool(True), orm.Float(3.0)
    node = submit(builder)

    def gpaw_jobs():
        return [n for n in node.called_descendants if n.process_label == 'GpawCalculation']

    deadline = time.time() + 900
    while not any(not job.is_terminated for job in gpaw_jobs()):
        assert time.time() < deadline and not node.is_terminated, 'no DFT job started'
        time.sleep(2)
    started_daemon_client.stop_daemon(wait=True)
    assert not node.is_terminated
    time.sleep(5)
    started_daemon_client.start_daemon()
    _await(node, 2400)
    assert node.is_finished_ok, node.exit_message
    structures = [job.inputs.structure.pk for job in gpaw_jobs() if job.is_finished_ok]
    assert structures and len(structures) == len(set(structures))  # nothing labelled twice

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
    sampling = next(n for n in node.called if n.process_label == 'EipSamplingWorkChain')
    failed = sampling.outputs.summary['failed']
    assert len(failed) == 3 and all('broken_W' in line for line in failed)  # the three loops with the broken EIP

    # the whole campaign travels as an archive: a fresh profile gets every node and link, and the final
    # model still descends from every configuration, the basic set's and the campaign's
    from .test_genome_sharing import archive_round_trip

    exported, counts = archive_round_trip(node, node.outputs.potential, tmp_path)
    assert (counts['nodes'], counts['links']) == exported
    assert counts['structures'] > 678

    status = cli('campaign', 'status', node.pk)
    assert status.exit_code == 0, status.output
    assert 'finished [0]' in status.output and 'gamma_max of the watched MD runs' in status.output
    assert 'ci-demo/pcc-gcmc' in status.output and status.output.count('failed: ') >= 3
    assert cli('campaign', 'status', 10**9).exit_code != 0

    # `genome show --provenance` tells an active-learning cell's chain: model, watched MD, snapshot, box, DFT
    found = [s for s in _labelled('ci-demo') if s.base.extras.get('dg_iteration', None)]
    assert found, 'the demo round of active learning labelled no cell'
    query = orm.QueryBuilder().append(orm.Group, tag='g', project='label')
    group = query.append(orm.StructureData, with_group='g', filters={'id': found[0].pk}).first(flat=True)
    shown = cli('genome', 'show', group, '--provenance', found[0].uuid)
    assert shown.exit_code == 0 and 'watched MLIP MD (md 3000 K 400 steps)' in shown.output and 'GpawCalculation' in shown.output


def test_demo_campaign_with_a_reference_labeler(cli, basic_set, campaign_codes, started_daemon_client):
    """`--reference-labeler meam-W`, submitted with `campaign run --submit`: no DFT anywhere; the basic set is
    copied and labelled by the reference, every labelled configuration of the campaign carries reference
    labels, the DFT basic set keeps its own."""
    pointers = {s.pk: s.base.extras.get('dg_labels') for s in orm.load_group(basic_set).nodes}
    options = ['--protocol', 'demo', '--basic', basic_set, '--group-prefix', 'ci-ref', '--reference-labeler', 'meam-W']
    result = cli('campaign', 'run', *options, '--submit', *campaign_codes)
    assert result.exit_code == 0, result.output
    node = orm.load_node(int(result.output.split('<')[1].split('>')[0]))
    _await(node, 1800)
    assert node.is_finished_ok, node.exit_message
    assert not [n for n in node.called_descendants if n.process_label == 'GpawCalculation']
    copies = orm.load_group('ci-ref/basic-reference')
    assert copies.count() == len(pointers) and node.outputs.summary['reference']['potential'] == 'meam-W'
    from aiida_defectgenome.tools.labels import labels_of

    labelled = _labelled('ci-ref')
    engines = {engine for _, engine in labels_of(labelled)}
    assert engines == {'reference:meam-W'} and len(labelled) > len(pointers)  # the copies and the new cells
    assert {s.pk: s.base.extras.get('dg_labels') for s in orm.load_group(basic_set).nodes} == pointers
    assert 'labels by: reference potential meam-W (a surrogate, not DFT)' in cli('campaign', 'status', node.pk).output
    sources = {frame.info['dg_source'] for frame in _training_frames(node)}
    assert len(sources) == 1 and next(iter(sources)).startswith('reference:meam-W')


def _training_frames(campaign):
    import io

    training = max((n for n in campaign.called_descendants if n.process_label == 'TrainingWorkChain'), key=lambda n: n.ctime)
    with training.outputs.training_set.open(mode='r') as handle:
        return ase.io.read(io.StringIO(handle.read()), index=':', format='extxyz')
