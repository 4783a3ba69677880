"""Relax bcc W with EAM and MEAM and compare lattice constants and cohesive energies.

Run with:  verdi run examples/relax_bcc_w.py [CODE_LABEL]   (default code: lammps@localhost)
after `aiida-defectgenome setup`.
"""

import sys

from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.data.potential_registry import load_potential
from aiida_defectgenome.workflows.lammps_base import LammpsBaseWorkChain

code = orm.load_code(sys.argv[1] if len(sys.argv) > 1 else 'lammps@localhost')
for name in ('eam-zhou-W', 'meam-W'):
    builder = LammpsBaseWorkChain.get_builder()
    builder.lammps.code = code
    builder.lammps.potential = load_potential(name)
    builder.lammps.structure = orm.StructureData(ase=bulk('W', 'bcc', a=3.10, cubic=True))
    builder.lammps.parameters = orm.Dict({'stages': [{'type': 'minimize', 'box_relax': 'iso', 'ftol': 1e-10}]})
    results, node = run_get_node(builder)
    out = results['output_parameters']
    a0 = (2 * out['volume_per_atom']) ** (1 / 3)
    print(f'{name:<12} a0 = {a0:.5f} A   E_coh = {out["energy_per_atom"]:.5f} eV/atom   (workchain pk {node.pk})')
