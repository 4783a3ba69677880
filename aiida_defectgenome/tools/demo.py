"""The demo job: relax bcc W with EAM-Zhou, import the W basic set, run the `demo` campaign, summarise and plot."""

from __future__ import annotations

import time
from importlib import resources

from aiida import orm
from ase.build import bulk

from ..data.potential_registry import load_potential
from ..services.genome import import_genome
from ..workflows.campaign import DefectGenomeWorkChain
from ..workflows.lammps_base import LammpsBaseWorkChain
from .campaign import campaign_status, stage_times, write_campaign_plots
from .launch import run_get_node

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


def run_demo(echo=print, group_label: str = 'W-basic', output='defectgenome-demo', reference_labeler: str | None = None) -> dict:
    """Run the demo and ``echo`` what happened; write its plots into folder ``output``; return its numbers.

    :param reference_labeler: a registered potential that labels instead of GPAW (a surrogate, not DFT).
    """
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
    imports = orm.QueryBuilder().append(orm.CalcFunctionNode, filters={'attributes.function_name': 'import_configurations'})
    for (node,) in imports.iterall():
        outputs = node.base.links.get_outgoing().all_link_labels()
        structures = sum(label.startswith('structure_') for label in outputs)
        echo(
            f'   file `{node.inputs.source.filename}` <{node.inputs.source.pk}> -> import_configurations <{node.pk}> '
            f'-> {structures} StructureData + labels table <{node.outputs.labels.pk}>'
        )

    prefix = time.strftime('demo-%Y%m%d-%H%M%S')
    labeler = f'the reference potential {reference_labeler} (a surrogate, NOT DFT)' if reference_labeler else 'GPAW'
    echo(f'3. The demo campaign (groups `{prefix}/...`): EIP sampling -> PCC-GCMC -> {labeler} -> SNAP -> active learning ...')
    start = time.perf_counter()
    codes = [orm.load_code(f'{label}@localhost') for label in ('lammps', 'python')]
    codes.append(None if reference_labeler else orm.load_code('gpaw@localhost'))
    builder = DefectGenomeWorkChain.get_builder_from_protocol(
        *codes, basic_group=group_label, protocol='demo', group_prefix=prefix, reference_labeler=reference_labeler
    )
    _, campaign = run_get_node(builder)
    if not campaign.is_finished_ok:
        raise RuntimeError(f'the campaign failed: {campaign.exit_message} (`verdi process report {campaign.pk}`)')
    echo(f'   DefectGenomeWorkChain<{campaign.pk}> finished in {time.perf_counter() - start:.0f} s.')

    echo('4. Summary:')
    status = campaign_status(campaign)
    for row in stage_times(campaign):
        count = f' x{row["count"]}' if row.get('count', 1) > 1 else ''
        echo(f'   {row["stage"] + count:<32} {row["process"]:<26} {row["seconds"]:>7.0f} s')
    for label, count in status['groups'].items():
        echo(f'   group {label:<60} {count:>5} structures')
    metrics = campaign.outputs.metrics.get_dict()
    echo(
        f'   final model: test {metrics["test"]["energy_rmse_mev_per_atom"]:.2f} meV/atom, '
        f'{metrics["test"]["force_rmse_mev_per_a"]:.0f} meV/A; energy offsets {metrics.get("energy_offsets", {})}'
    )
    echo('   gamma_max of the watched MD runs: ' + ', '.join(f'{e["run"]} {e["gamma_max"]:.2f}' for e in status['gamma_max']))
    plots = write_campaign_plots(campaign, group_label, output)
    echo(f'   plots in {output}/: ' + ', '.join(path.name for path in plots))
    echo(
        f'   explore: `aiida-defectgenome campaign status {campaign.pk}`, `verdi process status {campaign.pk}`, '
        f'`aiida-defectgenome genome show {prefix}/pcc-gcmc`'
    )
    return {'a0': a0, 'e_coh': out['energy_per_atom'], 'relax_pk': relax.pk, 'import': report, 'campaign': campaign.pk}
