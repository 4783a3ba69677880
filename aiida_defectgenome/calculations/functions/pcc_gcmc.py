"""Calcfunctions of PCC-GCMC: the seeded boxes of a cluster, the EIP's cohesive energy, and the choice.

``seed_pcc_boxes`` links the cluster to every box it was seeded into; each box goes through a LAMMPS
CalcJob; ``assess_pcc_boxes`` takes every box run and returns the chosen cell, so the provenance of a
periodic cell reaches back to the cluster, the potential and every candidate.
"""

from __future__ import annotations

import io

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from ...core import gcmc
from ...core.plots import plot_energy_map
from ...data.potential import InteratomicPotentialData
from ...tools.structures import atoms_from_structure, structure_from_atoms

__all__ = ('assess_pcc_boxes', 'compute_cohesive_energy', 'prepared_cluster', 'seed_pcc_boxes')


def prepared_cluster(cluster: orm.StructureData, core_mask: orm.ArrayData | None, cluster_info: orm.Dict | None):
    """Return :func:`..core.gcmc.prepare_cluster` of an AiiDA cluster: ``(ordered atoms, n_core, region)``."""
    atoms = atoms_from_structure(cluster)
    info = cluster_info.get_dict() if cluster_info is not None else {}
    atoms.info.update({key: info[key] for key in ('centre_index', 'cut_radius') if key in info})
    mask = core_mask.get_array('core') if core_mask is not None else None
    return gcmc.prepare_cluster(atoms, mask)


@calcfunction
def seed_pcc_boxes(cluster, parameters, core_mask=None, cluster_info=None):
    """Seed the cluster's crystal around it in every candidate box: outputs ``box_k`` (StructureData, core
    atoms first) and ``plan`` (per box: ``n_core``, ``nn_distance``, ``bulk_atoms``, ``region``,
    ``lengths`` (A), ``closest_image`` (A), ``commensurate`` and the LAMMPS ``run`` parameters)."""
    settings = gcmc.validate_pcc_parameters(parameters.get_dict())
    ordered, n_core, region = prepared_cluster(cluster, core_mask, cluster_info)
    plan = gcmc.plan_boxes(ordered, n_core, region, settings)
    outputs, boxes = {}, []
    for index, box in enumerate(plan.boxes):
        seeded = gcmc.seed_box(ordered, n_core, region, plan, box)
        outputs[f'box_{index}'] = structure_from_atoms(seeded)
        boxes.append(
            {
                **{key: seeded.info[key] for key in ('n_core', 'nn_distance', 'bulk_atoms', 'region')},
                'lengths': box.lengths,
                'closest_image': box.closest_image,
                'commensurate': box.commensurate,
                'seeded_atoms': len(seeded),
                'run': gcmc.box_run_parameters(seeded, settings),
            }
        )
    outputs['plan'] = orm.Dict({'boxes': boxes, 'translations': plan.translations.tolist()})
    return outputs


@calcfunction
def compute_cohesive_energy(potential: InteratomicPotentialData, element: orm.Str) -> orm.Float:
    """The EIP's energy per atom (eV) of the element's reference crystal, box relaxed (local LAMMPS)."""
    from ...tools.potentials import potential_files

    with potential_files(potential) as spec:
        return orm.Float(gcmc.cohesive_energy(spec, element.value))


@calcfunction
def assess_pcc_boxes(plan, parameters, cohesive_energy, source_energies=None, core_mask=None, **runs):
    """Check and score every box run and pick the valid one lowest in energy per atom.

    ``runs``: ``structure_k``, ``per_atom_k`` and ``output_parameters_k`` of each LAMMPS run k (boxes
    whose run failed are left out). Outputs: ``energy_map`` (ArrayData: ``box``, ``lengths`` (k, 3) A,
    ``natoms``, ``energy_per_atom`` eV, ``valid``), ``energy_map_plot`` (PNG), ``figures`` (every candidate,
    the chosen one), and when one is valid ``structure`` (the periodic cell) with ``core`` (its core mask).
    """
    settings = gcmc.validate_pcc_parameters(parameters.get_dict())
    boxes = plan['boxes']
    source = None
    if source_energies is not None:
        energies = source_energies.get_array('energies')
        mask = core_mask.get_array('core') if core_mask is not None else np.ones(len(energies), dtype=bool)
        source = gcmc.source_core_energy(energies, np.asarray(mask, dtype=bool))
    cells, figures = {}, []
    for index, box in enumerate(boxes):
        if f'structure_{index}' not in runs:
            figures.append({'box': index, 'valid': False, 'problems': ['the LAMMPS run failed'], 'lengths': box['lengths']})
            continue
        seeded = runs[f'box_{index}']
        seeded_atoms = atoms_from_structure(seeded)
        seeded_atoms.info.update({key: box[key] for key in ('n_core', 'nn_distance', 'bulk_atoms', 'region')})
        final = atoms_from_structure(runs[f'structure_{index}'])
        stress = np.array(runs[f'output_parameters_{index}']['stress'])
        cell, figure = gcmc.assess_candidate(
            seeded_atoms,
            final,
            runs[f'per_atom_{index}'].get_array('energies'),
            stress,
            settings,
            cohesive_energy.value,
            source,
        )
        figure.update(box=index, seeded_atoms=box['seeded_atoms'])
        cells[index] = cell
        figures.append(figure)
    chosen = gcmc.choose_candidate(figures)
    energy_map = orm.ArrayData()
    energy_map.set_array('box', np.array([f['box'] for f in figures]))
    energy_map.set_array('lengths', np.array([f['lengths'] for f in figures], dtype=float))
    energy_map.set_array('natoms', np.array([f.get('natoms', 0) for f in figures]))
    energy_map.set_array('energy_per_atom', np.array([f.get('energy_per_atom', np.nan) for f in figures]))
    energy_map.set_array('valid', np.array([f['valid'] for f in figures]))
    png = io.BytesIO()
    plot_energy_map(figures, chosen, png)
    outputs = {
        'energy_map': energy_map,
        'energy_map_plot': orm.SinglefileData(io.BytesIO(png.getvalue()), filename='energy_map.png'),
        'figures': orm.Dict({'candidates': figures, 'chosen': chosen}),
    }
    if chosen is not None:
        outputs['structure'] = structure_from_atoms(cells[chosen])
        core = orm.ArrayData()
        core.set_array('core', cells[chosen].arrays['core'])
        outputs['core'] = core
    return outputs
