"""Label three small W cells with GPAW (`fast` protocol): `verdi run examples/label_w_cells.py`.

Needs the `gpaw@localhost` code (`aiida-defectgenome setup`). Prints each configuration's labels.
"""

from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_defectgenome.data.labels import labels_of
from aiida_defectgenome.workflows.dft_labeling import DftLabelingWorkChain

cells = [bulk('W', 'bcc', a=a, cubic=True) for a in (3.14, 3.18, 3.22)]
group, created = orm.Group.collection.get_or_create('example-w-cells')
if created:  # a second run finds them labelled already and skips them
    group.add_nodes([orm.StructureData(ase=atoms).store() for atoms in cells])
structures = list(group.nodes)

builder = DftLabelingWorkChain.get_builder_from_protocol(orm.load_code('gpaw@localhost'), group.label, protocol='fast')
builder.output_group = orm.Str('example-w-cells-labelled')
results, node = run_get_node(builder)
print(f'{node.process_label}<{node.pk}>: {results["summary"]["labelled"]}')
for structure, (labels, engine) in zip(structures, labels_of(structures)):
    if labels is not None:
        print(
            f'a = {structure.cell[0][0]:.2f} A: E = {labels.energy:.4f} eV, sigma_xx = {labels.stress[0, 0]:.5f} eV/A^3 ({engine})'
        )
