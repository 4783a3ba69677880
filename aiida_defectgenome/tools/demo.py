"""The demo job: relax bcc W with EAM-Zhou through AiiDA, import the W basic set, summarise provenance."""

from __future__ import annotations

from importlib import resources

from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from ..workflows.lammps_base import LammpsBaseWorkChain
from .genome import import_genome
from .potentials import load_potential

__all__ = ('BASIC_W_DATASET', 'REFERENCE_EAM_ZHOU_W', 'relax_bulk', 'run_demo')

#: The 678-configuration basic W DFT set of Shuang et al., npj Comput. Mater. (2025) (VASP, PBE).
BASIC_W_DATASET = resources.files('aiida_defectgenome') / 'resources' / 'W-basic-dft.extxyz.gz'
#: EAM-Zhou W reference values: lattice constant (A) and cohesive energy (eV/atom).
REFERENCE_EAM_ZHOU_W = {'a0': 3.1648, 'e_coh': -8.760}


def relax_bulk(potential: str, element: str, lattice: str, a_guess: float, code: str = 'lammps@localhost'):
    """Relax positions and cell of a conventional cubic cell; return the ``LammpsBaseWorkChain`` node."""
    builder = LammpsBaseWorkChain.get_builder()
    builder.lammps.code = orm.load_code(code)
    builder.lammps.potential = load_potential(potential)
    builder.lammps.structure = orm.StructureData(ase=bulk(element, lattice, a=a_guess, cubic=True))
    builder.lammps.parameters = orm.Dict(
        {'stages': [{'type': 'minimize', 'box_relax': 'iso', 'etol': 0.0, 'ftol': 1e-10}], 'thermo_every': 1}
    )
    builder.metadata.label = f'relax {lattice} {element} with {potential}'
    _, node = run_get_node(builder)
    return node


def run_demo(echo=print, group_label: str = 'W-basic') -> dict:
    """Run the demo and ``echo`` what happened; return its numbers."""
    echo('1. Relaxing bcc W (EAM-Zhou) with LAMMPS through AiiDA ...')
    relax = relax_bulk('eam-zhou-W', 'W', 'bcc', a_guess=3.10)
    if not relax.is_finished_ok:
        raise RuntimeError(f'the relaxation failed: `verdi process report {relax.pk}`')
    out = relax.outputs.output_parameters.get_dict()
    a0 = (out['volume_per_atom'] * 2) ** (1 / 3)
    ref = REFERENCE_EAM_ZHOU_W
    echo(f'   a0    = {a0:.5f} A          (EAM-Zhou reference {ref["a0"]} A)')
    echo(f'   E_coh = {out["energy_per_atom"]:.5f} eV/atom  (EAM-Zhou reference {ref["e_coh"]} eV/atom)')

    echo(f'2. Importing the W basic DFT set (678 configurations) into genome group `{group_label}` ...')
    report = import_genome(BASIC_W_DATASET, group_label, engine='VASP')
    echo(f'   {report.created} imported, {report.reused} reused, {report.present} already in the group.')

    calc = relax.called[-1]
    echo('3. Provenance:')
    echo(f'   potential `{relax.inputs.lammps.potential.label}` <{relax.inputs.lammps.potential.pk}> '
         f'+ structure <{relax.inputs.lammps.structure.pk}> -> {calc.process_label} <{calc.pk}> '
         f'-> relaxed structure <{relax.outputs.structure.pk}>, output_parameters <{relax.outputs.output_parameters.pk}>')
    imports = orm.QueryBuilder().append(orm.CalcFunctionNode, filters={'attributes.function_name': 'import_configurations'})
    for (node,) in imports.iterall():
        source = node.inputs.source
        outputs = node.base.links.get_outgoing().all_link_labels()
        structures = sum(label.startswith('structure_') for label in outputs)
        echo(f'   file `{source.filename}` <{source.pk}> -> import_configurations <{node.pk}> '
             f'-> {structures} StructureData + labels table <{node.outputs.labels.pk}>')
    counts = {cls.__name__: orm.QueryBuilder().append(cls).count()
              for cls in (orm.StructureData, orm.ArrayData, orm.CalcJobNode, orm.WorkChainNode, orm.CalcFunctionNode)}
    echo('   nodes in this profile: ' + ', '.join(f'{k} {v}' for k, v in counts.items()))
    echo(f'   explore: `verdi process show {relax.pk}`, `verdi node graph generate {relax.pk}`, '
         f'`aiida-defectgenome genome show {group_label}`')
    return {'a0': a0, 'e_coh': out['energy_per_atom'], 'relax_pk': relax.pk, 'import': report}
