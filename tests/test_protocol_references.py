"""What each protocol builds, kept as reference files (``tests/fixtures/protocols/<workflow>-<protocol>.yaml``):
a change to a protocol, a default or a builder shows up here as a diff. After an intended change, rewrite the
references with ``DG_REGENERATE_PROTOCOLS=1 pytest tests/test_protocol_references.py`` and review the diff."""

import json
import os
from pathlib import Path

import pytest
import yaml
from aiida import orm
from aiida.engine.processes.builder import ProcessBuilderNamespace
from ase.build import bulk

from aiida_defectgenome.common.structures import structure_from_atoms

REFERENCES = Path(__file__).parent / 'fixtures' / 'protocols'
#: Attribute of the stand-ins for production cells (see ``light_cells``): what the cell would be.
LIGHT = 'dg_reference_cell'


def _plain(value):
    """A builder's inputs as YAML-able values: nodes by content or by kind, codes by label."""
    if isinstance(value, ProcessBuilderNamespace | dict):
        plain = {key: _plain(item) for key, item in sorted(value.items()) if key != 'metadata'}
        return {key: item for key, item in plain.items() if not _empty_namespace(value[key], item)}
    if isinstance(value, orm.Dict):
        return value.get_dict()
    if isinstance(value, orm.List):
        return value.get_list()
    if isinstance(value, orm.BaseType):
        return value.value
    if isinstance(value, orm.AbstractCode):
        return f'code {value.label}'
    if isinstance(value, orm.StructureData):
        return value.base.attributes.get(LIGHT, None) or f'StructureData {value.get_formula()} ({len(value.sites)} atoms)'
    if isinstance(value, orm.Data) and hasattr(value, 'name'):
        return f'{type(value).__name__} {value.name}'
    return type(value).__name__


def _empty_namespace(item, plain) -> bool:
    """A namespace (or dict) of the builder with nothing set in it: left out (a ``Dict`` node of ``{}`` stays)."""
    return isinstance(item, ProcessBuilderNamespace | dict) and not plain


def check_reference(name: str, builder) -> None:
    path = REFERENCES / f'{name}.yaml'
    built = json.loads(json.dumps(_plain(builder), default=lambda value: value.tolist()))  # numpy values
    if os.environ.get('DG_REGENERATE_PROTOCOLS'):
        path.write_text(yaml.safe_dump(built, sort_keys=True))
    assert path.exists(), f'no reference {path.name}: run with DG_REGENERATE_PROTOCOLS=1 and review it'
    _assert_same(built, yaml.safe_load(path.read_text()), name)


def _assert_same(built, reference, where: str) -> None:
    """Equal, floats to 1e-9 (relative): positions and lattice constants come from LAMMPS runs."""
    if isinstance(reference, dict):
        assert isinstance(built, dict) and built.keys() == reference.keys(), (where, sorted(built), sorted(reference))
        for key in reference:
            _assert_same(built[key], reference[key], f'{where}.{key}')
    elif isinstance(reference, list):
        assert isinstance(built, list) and len(built) == len(reference), where
        for index, (mine, theirs) in enumerate(zip(built, reference)):
            _assert_same(mine, theirs, f'{where}[{index}]')
    elif isinstance(reference, float):
        assert built == pytest.approx(reference, rel=1e-9, abs=1e-12), (where, built, reference)
    else:
        assert built == reference, (where, built, reference)


@pytest.mark.parametrize('protocol', ['fast', 'paper'])
def test_pcc_gcmc(protocol, lammps_code, eam_w):
    from aiida_defectgenome.workflows.pcc_gcmc import PccGcmcGroupWorkChain, PccGcmcWorkChain

    cluster = structure_from_atoms(bulk('W', 'bcc', a=3.165, cubic=True) * (2, 2, 2))
    check_reference(
        f'pcc_gcmc-{protocol}', PccGcmcWorkChain.get_builder_from_protocol(lammps_code, eam_w, cluster, protocol=protocol)
    )
    group = PccGcmcGroupWorkChain.get_builder_from_protocol(lammps_code, eam_w, 'clusters', protocol=protocol)
    check_reference(f'pcc_gcmc_group-{protocol}', group)


@pytest.mark.parametrize('protocol', ['fast', 'default'])
def test_training(protocol, python_code):
    from aiida_defectgenome.workflows.training import TrainingWorkChain

    check_reference(f'training-{protocol}', TrainingWorkChain.get_builder_from_protocol(python_code, ['basic'], protocol=protocol))


@pytest.mark.parametrize('protocol', ['fast', 'moderate', 'precise'])
def test_dft_labeling_with_gpaw(protocol, gpaw_code):
    from aiida_defectgenome.workflows.dft_labeling import DftLabelingWorkChain

    builder = DftLabelingWorkChain.get_builder_from_protocol(gpaw_code, 'cells', protocol=protocol)
    check_reference(f'dft_labeling-gpaw-{protocol}', builder)


@pytest.mark.parametrize('protocol', ['fast', 'moderate', 'precise'])
def test_dft_labeling_with_vasp(protocol, local_code):
    """The VASP builder (aiida-vasp's ``VaspWorkChain`` inside). aiida-vasp checks only that the POTCAR family
    exists when the builder is made; its POTCARs (licensed, not here) are read when a job is prepared, so an
    empty family of the usual name stands in for the uploaded one."""
    from aiida_vasp.data.potcar import PotcarGroup

    from aiida_defectgenome.workflows.dft_labeling import DftLabelingWorkChain

    if not orm.QueryBuilder().append(PotcarGroup, filters={'label': 'PBE.54'}).count():
        PotcarGroup(label='PBE.54').store()
    group, _ = orm.Group.collection.get_or_create('vasp-cells')
    if not group.count():
        group.add_nodes(structure_from_atoms(bulk('W', 'bcc', a=3.165, cubic=True)).store())
    code = local_code('vasp', 'vasp.vasp', '/opt/vasp/bin/vasp_std')
    builder = DftLabelingWorkChain.get_builder_from_protocol(code, 'vasp-cells', protocol=protocol, potential_family='PBE.54')
    check_reference(f'dft_labeling-vasp-{protocol}', builder)


def test_dft_labeling_with_the_reference_labeler(python_code, eam_w):
    from aiida_defectgenome.workflows.dft_labeling import DftLabelingWorkChain

    builder = DftLabelingWorkChain.get_builder_from_protocol(python_code, 'cells', reference_potential=eam_w)
    check_reference('dft_labeling-reference', builder)


def test_eip_sampling_fast(lammps_code, python_code, eam_w):
    from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain

    builder = EipSamplingWorkChain.get_builder_from_protocol(lammps_code, python_code, [eam_w], protocol='fast')
    check_reference('eip_sampling-fast', builder)


def test_campaign_demo(lammps_code, python_code, gpaw_code):
    from aiida_defectgenome.workflows.campaign import DefectGenomeWorkChain

    builder = DefectGenomeWorkChain.get_builder_from_protocol(
        lammps_code, python_code, gpaw_code, protocol='demo', group_prefix='demo'
    )
    check_reference('campaign-demo', builder)
    ports = DefectGenomeWorkChain.spec().inputs  # what launching checks, defaults filled in first
    assert ports.validate(ports.pre_process(builder._inputs(prune=True))) is None


@pytest.mark.parametrize('protocol', ['relax', 'single_point'])
def test_lammps_base(protocol, lammps_code, eam_w):
    from aiida_defectgenome.workflows.lammps_base import LammpsBaseWorkChain

    structure = structure_from_atoms(bulk('W', 'bcc', a=3.165, cubic=True))
    check_reference(
        f'lammps_base-{protocol}', LammpsBaseWorkChain.get_builder_from_protocol(lammps_code, structure, eam_w, protocol=protocol)
    )


@pytest.mark.parametrize('protocol', ['fast', 'moderate', 'precise'])
def test_gpaw_base(protocol, gpaw_code):
    from aiida_defectgenome.workflows.gpaw_base import GpawBaseWorkChain

    structure = structure_from_atoms(bulk('W', 'bcc', a=3.165, cubic=True))
    check_reference(f'gpaw_base-{protocol}', GpawBaseWorkChain.get_builder_from_protocol(gpaw_code, structure, protocol=protocol))


@pytest.fixture
def light_cells(monkeypatch):
    """Production cells hold 10^5-10^6 atoms: their ``StructureData`` (70 s and 1.5 GB for EIP sampling) are
    replaced by empty ones that say what they would be; everything else of the builder is built as it is."""
    from aiida_defectgenome.workflows import campaign, eip_sampling

    def light(atoms):
        structure = orm.StructureData(cell=atoms.cell.array.tolist())
        structure.base.attributes.set(LIGHT, f'StructureData {atoms.get_chemical_formula()} ({len(atoms)} atoms)')
        return structure

    for module in (eip_sampling, campaign):
        monkeypatch.setattr(module, 'structure_from_atoms', light)


@pytest.mark.slow  # 30 s: the production cells are built as ASE atoms (3.9 million)
def test_eip_sampling_production(lammps_code, python_code, eam_w, light_cells):
    from aiida_defectgenome.workflows.eip_sampling import EipSamplingWorkChain

    builder = EipSamplingWorkChain.get_builder_from_protocol(lammps_code, python_code, [eam_w], protocol='production')
    check_reference('eip_sampling-production', builder)


@pytest.mark.slow
def test_campaign_production(lammps_code, python_code, light_cells):
    """With the reference labeler: the production protocol's VASP labelling needs a POTCAR family (its INCAR
    is checked in ``test_dft_labeling.py``)."""
    from aiida_defectgenome.workflows.campaign import DefectGenomeWorkChain

    builder = DefectGenomeWorkChain.get_builder_from_protocol(
        lammps_code, python_code, None, protocol='production', group_prefix='production', reference_labeler='meam-W'
    )
    check_reference('campaign-production', builder)
