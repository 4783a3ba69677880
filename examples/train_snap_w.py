"""Train a quadratic SNAP ensemble on the W basic set: `verdi run examples/train_snap_w.py`.

Needs the `python@localhost` code (`aiida-defectgenome setup`) and the `W-basic` genome group
(`aiida-defectgenome genome import` of the bundled set, or `aiida-defectgenome demo`, which imports it).
Prints the test errors and the ensemble's force spread on bulk bcc and on a (110) surface.
"""

from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk, surface

from aiida_defectgenome.core.mlip.potential_evaluation import lammps_predictions
from aiida_defectgenome.core.mlip.snap_training import force_spread
from aiida_defectgenome.data.potential_registry import potential_files
from aiida_defectgenome.workflows.training import TrainingWorkChain

builder = TrainingWorkChain.get_builder_from_protocol(orm.load_code('python@localhost'), ['W-basic'], protocol='fast', ensemble=5)
results, node = run_get_node(builder)
test = results['metrics']['test']
print(
    f'{node.process_label}<{node.pk}>: test {test["energy_rmse_mev_per_atom"]:.2f} meV/atom, '
    f'{test["force_rmse_mev_per_a"]:.0f} meV/A'
)

crystal = bulk('W', 'bcc', a=3.18, cubic=True).repeat(3)
crystal.rattle(0.05, seed=1)
slab = surface(bulk('W', 'bcc', a=3.18, cubic=True), (1, 1, 0), 4, vacuum=6.0).repeat((3, 3, 1))
for name, atoms in (('bulk', crystal), ('(110) surface', slab)):
    forces = []
    for member in results['ensemble'].values():
        with potential_files(member) as spec:
            forces.append(lammps_predictions(spec, [atoms])[0][1])
    print(f'{name}: mean sigma_F = {force_spread(forces).mean():.3f} eV/A')
