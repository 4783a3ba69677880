"""Calcfunctions of PCC-GCMC: the seeded boxes of a cluster, the EIP's cohesive energy (read from the LAMMPS
job of the reference crystal), and the choice.

``seed_pcc_boxes`` links the cluster to every box it was seeded into; each box goes through a LAMMPS
CalcJob; ``assess_pcc_boxes`` takes every box run and returns the chosen cell, so the provenance of a
periodic cell reaches back to the cluster, the potential, the active set that judged its central atom
and every candidate.
"""

from __future__ import annotations

import io

import numpy as np
from aiida import orm
from aiida.engine import ExitCode, calcfunction

from ...common.structures import atoms_from_structure, structure_from_atoms
from ...core.doptimality.descriptors import descriptor_from_parameters
from ...core.pcc_gcmc import gcmc
from ...core.pcc_gcmc.assessment import assess_candidate, check_source_energies
from ...core.pcc_gcmc.box_search import ImpossibleBox
from ...core.pcc_gcmc.cells import box_run_parameters, plan_boxes, prepare_cluster, seeded_boxes
from ...core.plots import plot_energy_map

__all__ = ('EXIT_IMPOSSIBLE_BOX', 'assess_pcc_boxes', 'cohesive_energy_of', 'prepared_cluster', 'seed_pcc_boxes')

EXIT_IMPOSSIBLE_BOX = 300
#: What the seeding stores of each box for the assessment, beside the box itself.
_BOX_INFO = ('n_core', 'core_index', 'buffer', 'trimmed', 'nn_distance', 'bulk_atoms', 'region', 'largest_hole')


def prepared_cluster(cluster: orm.StructureData, core_mask: orm.ArrayData | None, cluster_info: orm.Dict | None, settings: dict):
    """Return :func:`..core.pcc_gcmc.cells.prepare_cluster` of an AiiDA cluster (``settings`` validated)."""
    atoms = atoms_from_structure(cluster)
    info = cluster_info.get_dict() if cluster_info is not None else {}
    atoms.info.update({key: info[key] for key in ('centre_index', 'cut_radius') if key in info})
    mask = core_mask.get_array('core') if core_mask is not None else None
    return prepare_cluster(atoms, gcmc.core_mask_of(atoms, mask), settings['core_radius'])


@calcfunction
def seed_pcc_boxes(cluster, parameters, core_mask=None, cluster_info=None, active_set=None, cohesive_energy=None):
    """Seed the cluster's crystal around its frozen core in every candidate box: outputs ``box_k``
    (StructureData, frozen atoms first) and ``plan``: per box what the assessment needs (frozen and
    buffer atoms by input index, ``trimmed``, ``region``, ``lengths``, ``closest_image``,
    ``commensurate``, ``seeded_atoms``, the LAMMPS ``run`` parameters, whose anneal, if any, needs the
    EIP's ``cohesive_energy``), the ``core_radius`` (A) and
    ``n_core`` used, the ``centre`` (input index) and the central atom's ``environment`` (descriptor
    settings, its row in the cluster, its gamma), ``cluster_atoms``, ``lattice`` (whether the boxes follow
    the cluster's own lattice). Exit 300 when no box fits."""
    settings = gcmc.validate_pcc_parameters(parameters.get_dict())
    try:
        prepared = prepared_cluster(cluster, core_mask, cluster_info, settings)
        plan = plan_boxes(prepared, settings)
        chosen = seeded_boxes(prepared, plan, settings)
    except ImpossibleBox as exc:
        return ExitCode(EXIT_IMPOSSIBLE_BOX, str(exc))
    sets = active_set.get_active_set() if active_set is not None else None
    descriptor, row, gamma = gcmc.central_environment(prepared, settings, sets)
    outputs, boxes = {}, []
    for index, (box, seeded) in enumerate(chosen):
        outputs[f'box_{index}'] = structure_from_atoms(seeded)
        boxes.append(
            {
                **{key: seeded.info[key] for key in _BOX_INFO},
                'lengths': box.lengths,
                'closest_image': box.closest_image,
                'commensurate': box.commensurate,
                'seeded_atoms': len(seeded),
                'run': box_run_parameters(seeded, settings, cohesive_energy.value if cohesive_energy is not None else None),
            }
        )
    environment = {'descriptor': descriptor.parameters, 'row': None if row is None else row.tolist()}
    if gamma is not None:
        environment['gamma'] = gamma
    outputs['plan'] = orm.Dict(
        {
            'boxes': boxes,
            'core_radius': prepared.region.radius,
            'n_core': prepared.n_core,
            'centre': int(prepared.order[0]),
            'cut_radius': prepared.cut_radius,
            'cluster_atoms': len(prepared.atoms),
            'lattice': plan.basis is not None,
            'environment': environment,
        }
    )
    return outputs


@calcfunction
def cohesive_energy_of(output_parameters: orm.Dict) -> orm.Float:
    """The EIP's cohesive energy (eV/atom): the final energy per atom of the LAMMPS run of the element's
    reference crystal (:func:`...core.pcc_gcmc.gcmc.cohesive_energy_run`), whose ``output_parameters`` these are."""
    return orm.Float(output_parameters['energy_per_atom'])


@calcfunction
def assess_pcc_boxes(plan, parameters, cohesive_energy, source_energies=None, active_set=None, **runs):
    """Check and score every box run and pick the valid one lowest in energy per atom.

    ``runs``: ``box_k`` (the seeded box) and, for each LAMMPS run k that gave a structure, ``structure_k``,
    ``per_atom_k`` and ``output_parameters_k``. Outputs: ``energy_map`` (ArrayData: ``box``, ``lengths``
    (k, 3) A, ``natoms``, ``energy_per_atom`` eV, ``valid``), ``energy_map_plot`` (PNG), ``figures`` (every
    candidate, the chosen one, what was frozen), and when one is valid ``structure`` (the periodic cell)
    with ``core`` (arrays ``core``: the frozen atoms, ``source_index``: each atom's index in the cluster,
    -1 for inserted ones).
    """
    settings = gcmc.validate_pcc_parameters(parameters.get_dict())
    environment = plan['environment']
    sets = active_set.get_active_set() if active_set is not None else None
    descriptor = descriptor_from_parameters(environment['descriptor'])
    row = None if environment['row'] is None else np.array(environment['row'])
    energies = None
    if source_energies is not None:
        energies = check_source_energies(source_energies.get_array('energies'), plan['cluster_atoms'])
    cells, figures = {}, []
    for index, box in enumerate(plan['boxes']):
        if f'structure_{index}' not in runs:
            figures.append({'box': index, 'valid': False, 'problems': ['the LAMMPS run failed'], 'lengths': box['lengths']})
            continue
        seeded = atoms_from_structure(runs[f'box_{index}'])
        seeded.info.update({key: box[key] for key in _BOX_INFO})
        per_atom = runs[f'per_atom_{index}']
        cell, figure = assess_candidate(
            seeded,
            atoms_from_structure(runs[f'structure_{index}']),
            per_atom.get_array('energies'),
            np.array(runs[f'output_parameters_{index}']['stress']),
            settings,
            per_atom.get_array('ids') if 'ids' in per_atom.get_arraynames() else None,
            cohesive_energy.value,
            energies,
        )
        gcmc.check_environment(figure, cell, row, descriptor, sets)
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
    frozen = {key: plan[key] for key in ('core_radius', 'n_core', 'centre', 'cut_radius')}
    if 'gamma' in environment:
        frozen['gamma'] = environment['gamma']
    outputs = {
        'energy_map': energy_map,
        'energy_map_plot': orm.SinglefileData(io.BytesIO(png.getvalue()), filename='energy_map.png'),
        'figures': orm.Dict({'candidates': figures, 'chosen': chosen, 'frozen': frozen}),
    }
    if chosen is not None:
        outputs['structure'] = structure_from_atoms(cells[chosen])
        core = orm.ArrayData()
        core.set_array('core', cells[chosen].arrays['core'])
        core.set_array('source_index', cells[chosen].arrays['source_index'])
        outputs['core'] = core
    return outputs
