"""DFT labelling on real GPAW through AiiDA: labels as ancestors of the run, a failure recorded and skipped,
labelled configurations not recomputed, and the VASP inputs rendered from the protocol."""

from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.calculations.gpaw import GpawCalculation
from aiida_defectgenome.core.dft.vasp_labels import labels_from_vasp
from aiida_defectgenome.core.jobs.gpaw_single_point import kpoint_mesh
from aiida_defectgenome.data.labels import labels_of
from aiida_defectgenome.workflows.dft_labeling import DftLabelingWorkChain, vasp_incar, vasp_kpoints

pytest.importorskip('gpaw')
FIXTURES = Path(__file__).parent / 'fixtures'


def _group(label, structures):
    group, _ = orm.Group.collection.get_or_create(label)
    group.add_nodes([s.store() for s in structures])
    return group


def test_kpoint_mesh_follows_the_paper_spacing_and_skips_open_axes():
    cell = np.diag([3.18, 3.18, 31.8])
    assert kpoint_mesh(cell, [True, True, True], 0.03) == [11, 11, 2]  # |b| = 0.3145 1/A -> ceil(10.48)
    assert kpoint_mesh(cell, [True, True, False], 0.03) == [11, 11, 1]
    with pytest.raises(ValueError, match='positive'):
        kpoint_mesh(cell, [True] * 3, 0)


def test_gpaw_labels_a_group_and_records_a_failure_without_stopping(aiida_profile, gpaw_code):
    strained = bulk('W', 'bcc', a=3.18, cubic=True)
    strained.set_cell(strained.cell[:] * [1.02, 1.0, 0.99], scale_atoms=True)
    rattled = bulk('W', 'bcc', a=3.18, cubic=True)
    rattled.positions[0] += [0.05, 0.02, -0.03]
    impossible = bulk('W', 'bcc', a=3.18, cubic=True)
    impossible.symbols[1] = 'Fr'  # francium: gpaw-data has no PAW setup for it
    structures = [orm.StructureData(ase=atoms) for atoms in (strained, rattled, impossible)]
    _group('dft-test-configurations', structures)
    builder = DftLabelingWorkChain.get_builder_from_protocol(
        gpaw_code, 'dft-test-configurations', protocol='fast', overrides={'kpoint_spacing': 0.15}
    )
    builder.output_group = orm.Str('dft-test-labelled')
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    summary = results['summary'].get_dict()
    assert (len(summary['labelled']), len(summary['failed']), len(summary['skipped'])) == (2, 1, 0)
    assert 'Fr' in next(iter(summary['failed'].values()))
    assert 'dg_label_failed' in structures[2].base.extras.keys()

    (strained_labels, engine), (rattled_labels, _), (none, _) = labels_of(structures)
    assert engine == 'GPAW' and none is None
    assert -26 < strained_labels.energy < -20  # eV for two W atoms in GPAW's PAW reference
    assert np.allclose(strained_labels.forces, 0, atol=0.02)  # symmetric: no force
    assert strained_labels.stress[0, 0] > strained_labels.stress[2, 2]  # stretched along x: more tensile
    assert np.abs(rattled_labels.forces).max() > 0.1 and np.allclose(rattled_labels.forces.sum(axis=0), 0, atol=0.05)

    table = orm.load_node(structures[0].base.extras.get('dg_labels'))
    ancestors = orm.QueryBuilder().append(orm.ArrayData, filters={'id': table.pk}, tag='t')
    ancestors.append(orm.CalcJobNode, with_outgoing='t', project=['process_type'])
    assert ancestors.all(flat=True) == ['aiida.calculations:defectgenome.gpaw']  # the DFT run made the labels
    assert {n.pk for n in orm.load_group('dft-test-labelled').nodes} == {structures[0].pk, structures[1].pk}

    again = run_get_node(builder)[1]  # the same settings again: nothing recomputed
    summary = again.outputs.summary.get_dict()
    assert (len(summary['skipped']), len(summary['labelled']), len(summary['failed'])) == (2, 0, 1)
    assert len([n for n in again.called_descendants if n.process_label == 'GpawCalculation']) == 1  # only the failed one


def test_an_empty_or_missing_group_is_an_exit_code(aiida_profile, gpaw_code):
    builder = DftLabelingWorkChain.get_builder_from_protocol(gpaw_code, 'no-such-group', protocol='fast')
    _, node = run_get_node(builder)
    assert node.exit_status == DftLabelingWorkChain.exit_codes.ERROR_NO_CONFIGURATIONS.status
    assert 'no-such-group' in node.exit_message


def test_vasp_inputs_follow_the_precise_protocol(aiida_profile, aiida_localhost):
    incar = vasp_incar('precise')
    assert incar['encut'] == 520 and incar['ediff'] == 1e-6 and incar['ismear'] == 1 and incar['lreal'] is False
    assert (incar['ibrion'], incar['nsw'], incar['isif'], incar['lwave'], incar['lcharg']) == (-1, 0, 2, False, False)
    assert vasp_incar('fast', {'ENCUT': 250})['encut'] == 250
    structure = orm.StructureData(ase=bulk('W', 'bcc', a=3.18, cubic=True))
    mesh, offset = vasp_kpoints(structure, 0.03).get_kpoints_mesh()
    assert mesh == [11, 11, 11] and offset == [0.0, 0.0, 0.0]

    code = orm.InstalledCode(computer=aiida_localhost, filepath_executable='/usr/bin/vasp_std', default_calc_job_plugin='vasp.vasp')
    code.store()
    _group('vasp-test-configurations', [structure])
    with pytest.raises(ValueError, match='POTCAR family `PBE.54` not found.*uploadfamily'):
        DftLabelingWorkChain.get_builder_from_protocol(code, 'vasp-test-configurations', potential_family='PBE.54')
    with pytest.raises(ValueError, match='potential_family'):
        DftLabelingWorkChain.get_builder_from_protocol(code, 'vasp-test-configurations')


def test_genuine_vasp_output_becomes_the_labels_ase_reads_from_it():
    """A VASP 6.3.0 single point (2 atoms, PSTRESS = 1 kBar; ASE's test data, tests/fixtures/vasp/README.md)
    parsed by aiida-vasp's vasprun parser as its VaspParser does for `misc`, against ASE's own reader."""
    import copy

    import ase.io
    from aiida_vasp.parsers.content_parsers.vasprun import VasprunParser

    from aiida_defectgenome.workflows.dft_labeling import VASP_PARSER_SETTINGS

    path = FIXTURES / 'vasp' / 'vasprun.xml'
    with path.open('rb') as handle:
        # a copy: aiida-vasp's content parser writes its defaults into the settings it is given
        parser = VasprunParser(handler=handle, settings=copy.deepcopy(VASP_PARSER_SETTINGS['parser_settings']))
    labels = labels_from_vasp({key: parser.get_quantity(key) for key in ('total_energies', 'forces', 'stress')})
    reference = ase.io.read(path)
    assert np.isclose(labels.energy, reference.calc.get_property('free_energy'), atol=1e-8)
    assert np.allclose(labels.forces, reference.get_forces(), atol=1e-8)
    assert np.allclose(labels.stress, reference.get_stress(voigt=False), atol=1e-8)
    assert labels.stress[0, 0] > 0.1  # -166 kBar in VASP's sign is tension in ASE's
    with pytest.raises(KeyError, match='energy_free'):
        labels_from_vasp({'total_energies': {'energy_extrapolated': -25.0}, 'forces': [[0, 0, 0]]})


@pytest.mark.slow  # half a minute: in the default run, the other tests cover it in part
def test_label_command_writes_ase_readable_labels(cli, gpaw_code, tmp_path):
    import ase.io

    source = tmp_path / 'w-cells.extxyz'
    ase.io.write(source, [bulk('W', 'bcc', a=3.18, cubic=True), bulk('W', 'bcc', a=3.22, cubic=True)])
    output = tmp_path / 'labelled.extxyz'
    result = cli('label', source, '--engine', 'gpaw', '--protocol', 'fast', '--output', output, '--code', gpaw_code.full_label)
    assert result.exit_code == 0, result.output
    assert 'labelled 2' in result.output and 'group `w-cells-labelled`' in result.output
    frames = ase.io.read(output, index=':')
    assert len(frames) == 2
    assert frames[1].get_potential_energy() > frames[0].get_potential_energy() - 1.0  # both near the minimum
    assert frames[0].get_forces().shape == (2, 3) and frames[0].get_stress().shape == (6,)
    assert frames[1].get_stress()[0] > frames[0].get_stress()[0]  # the larger cell is under more tension

    missing = cli('label', 'no-such-group', '--engine', 'gpaw')
    assert missing.exit_code != 0 and 'neither a file nor a group label' in missing.output
    vasp = cli('label', 'w-cells', '--engine', 'vasp')
    assert vasp.exit_code != 0 and '--potential-family' in vasp.output


def test_an_unconverged_scf_is_retried_with_damped_mixing(aiida_profile, gpaw_code):
    from aiida_defectgenome.workflows.gpaw_base import GpawBaseWorkChain

    parameters = {'ecut': 250, 'kpoint_spacing': 0.15, 'maxiter': 4, 'convergence': {'energy': 1e-4, 'density': 1e-3}}
    inputs = {
        'gpaw': {
            'code': gpaw_code,
            'structure': orm.StructureData(ase=bulk('W', 'bcc', a=3.18)),
            'parameters': orm.Dict(parameters),
        }
    }
    results, node = run_get_node(GpawBaseWorkChain, **inputs)
    assert node.is_finished_ok, node.exit_message
    calculations = sorted(node.called, key=lambda n: n.ctime)
    assert calculations[0].exit_status == GpawCalculation.exit_codes.ERROR_SCF_NOT_CONVERGED.status
    last = calculations[-1].inputs.parameters.get_dict()
    assert last['mixer']['beta'] < 0.05 and last['maxiter'] > 4
    assert results['labels'].base.attributes.get('settings')['maxiter'] == last['maxiter']  # labels say how they were made


def test_caching_reuses_an_identical_gpaw_run(aiida_profile, gpaw_code):
    from aiida.manage.caching import enable_caching

    inputs = {
        'code': gpaw_code,
        'structure': orm.StructureData(ase=bulk('W', 'bcc', a=3.2)),
        'parameters': orm.Dict({'ecut': 250, 'kpoint_spacing': 0.15, 'convergence': {'energy': 1e-4, 'density': 1e-3}}),
    }
    with enable_caching(identifier='aiida.calculations:defectgenome.gpaw'):
        first = run_get_node(GpawCalculation, **inputs)[1]
        second = run_get_node(GpawCalculation, **inputs)[1]
    assert first.is_finished_ok and second.is_finished_ok
    assert second.base.caching.is_created_from_cache and second.base.caching.get_cache_source() == first.uuid
    assert second.outputs.labels.get_array('energy')[0] == first.outputs.labels.get_array('energy')[0]


@pytest.mark.slow
def test_gpaw_pbe_lattice_constant_of_w_on_the_moderate_protocol(tmp_path):
    from aiida_defectgenome.core.dft.equation_of_state import cubic_lattice_constant
    from aiida_defectgenome.core.jobs.gpaw_single_point import single_point
    from aiida_defectgenome.protocols import read_protocol

    _, protocol = read_protocol('dft_labeling', 'moderate')
    parameters = {**protocol['gpaw'], 'kpoint_spacing': protocol['kpoint_spacing']}
    lattice = np.linspace(3.13, 3.25, 5)  # all on one k-point mesh (8x8x8)
    energies = [single_point(bulk('W', 'bcc', a=a, cubic=True), parameters, txt=str(tmp_path / 'g.txt'))['energy'] for a in lattice]
    fit = cubic_lattice_constant(lattice, energies, atoms_per_cell=2)
    assert abs(fit['a0'] / 3.18 - 1) < 0.01  # the paper's DFT: 3.184 A
    assert 250 < fit['bulk_modulus'] < 350  # GPa; PBE gives about 300 for W
