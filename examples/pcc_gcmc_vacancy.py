"""PCC-GCMC on a cluster cut around a vacancy in bcc W: `verdi run examples/pcc_gcmc_vacancy.py`.

Needs the `lammps@localhost` code (`aiida-defectgenome setup`). Prints the candidate boxes and the
figures of merit of the chosen cell.
"""

import numpy as np
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.common.structures import structure_from_atoms
from aiida_defectgenome.core.doptimality.clusters import cut_neighbourhood
from aiida_defectgenome.data.potential_registry import load_potential
from aiida_defectgenome.workflows.pcc_gcmc import PccGcmcWorkChain

crystal = bulk('W', 'bcc', a=3.16485, cubic=True) * 8
centre = int(np.argmin(np.linalg.norm(crystal.positions - crystal.cell.sum(axis=0) / 2, axis=1)))
neighbour = int(np.argsort(np.linalg.norm(crystal.positions - crystal.positions[centre], axis=1))[1])
del crystal[neighbour]  # a vacancy next to the centre atom
centre -= int(neighbour < centre)
cluster = cut_neighbourhood(crystal, centre, radius=6.0)

builder = PccGcmcWorkChain.get_builder_from_protocol(
    orm.load_code('lammps@localhost'),
    load_potential('eam-zhou-W'),
    structure_from_atoms(cluster),
    protocol='fast',
    cluster_info=orm.Dict({'centre_index': 0, 'cut_radius': 6.0}),
)
results, node = run_get_node(builder)
print(f'{node.process_label}<{node.pk}>: exit status {node.exit_status}')
for candidate in results['figures']['candidates']:
    print(candidate['box'], candidate['lengths'], candidate.get('natoms'), candidate.get('energy_per_atom'), candidate['problems'])
if 'structure' in results:
    print('chosen cell:', results['structure'].pk, results['structure'].base.extras.all)
