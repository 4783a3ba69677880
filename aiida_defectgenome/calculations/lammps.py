"""``LammpsCalculation``: one LAMMPS run (minimisations and MD stages) of a structure with a potential.

This package writes its own CalcJob rather than using aiida-lammps 1.0.2: its ``lammps.base`` renders
one fixed run/minimize with a fixed dump line, and ``lammps.raw`` parses nothing per atom, while the
sampling, GCMC and active-learning steps need several stages in one input, custom dumps, per-atom
energies and forces, and the structure mapped back into its original frame.
"""

from __future__ import annotations

import functools

from aiida import orm
from aiida.common import datastructures
from aiida.engine import CalcJob

from ..common.validators import dict_validator
from ..core.lammps import inputs as lammps_input
from ..data.potential import InteratomicPotentialData
from . import single_threaded

__all__ = ('LammpsCalculation',)


def _validate_inputs(inputs, _):
    structure, potential = inputs.get('structure'), inputs.get('potential')
    if structure is None or potential is None:
        return None
    parameters = inputs['parameters'] if 'parameters' in inputs else None
    nodes = (structure, potential, parameters)
    if all(node is None or node.is_stored for node in nodes):  # validated once (workchain ports expose these inputs)
        return _stored_inputs_error(*(node and node.uuid for node in nodes))
    return _inputs_error(*nodes)


@functools.lru_cache(maxsize=128)
def _stored_inputs_error(structure: str, potential: str, parameters: str | None) -> str | None:
    """:func:`_inputs_error` of stored nodes (which cannot change), given by UUID."""
    return _inputs_error(orm.load_node(structure), orm.load_node(potential), parameters and orm.load_node(parameters))


def _inputs_error(structure: orm.StructureData, potential: InteratomicPotentialData, parameters: orm.Dict | None) -> str | None:
    """Why LAMMPS cannot run ``structure`` with ``potential`` and ``parameters``, or ``None``."""
    missing = sorted(structure.get_symbols_set() - set(potential.species))
    if missing:
        return (
            f'the structure contains {", ".join(missing)}, which potential `{potential.name}` does not describe '
            f'(it has {", ".join(potential.species)})'
        )
    sites = structure.sites
    try:
        parameters = lammps_input.validate_parameters(parameters.get_dict() if parameters is not None else {})
        if parameters['frozen'] > len(sites):
            return f'frozen = {parameters["frozen"]} is more than the {len(sites)} atoms of the structure'
        lammps_input.render_input(parameters, [], structure.pbc, cell=structure.cell)
        lammps_input.fractional_in_cell([site.position for site in sites], structure.cell, structure.pbc)
    except ValueError as exc:
        return str(exc)
    return None


class LammpsCalculation(CalcJob):
    """Run LAMMPS (metal units) on a structure with an interatomic potential; see :mod:`..core.lammps.inputs`."""

    _INPUT_FILE = 'aiida.in'
    _OUTPUT_FILE = 'aiida.out'
    _DATA_FILE = 'structure.data'

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('structure', valid_type=orm.StructureData, help='The structure to run (periodic or not).')
        spec.input('potential', valid_type=InteratomicPotentialData, help='The interatomic potential (files, pair style).')
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            required=False,
            validator=dict_validator(lammps_input.validate_parameters, 'invalid parameters: '),
            help='Run description: `stages` (minimize/md/gcmc), `frozen`, `thermo_every`, `dump_every`. '
            'Absent: a single-point evaluation.',
        )
        spec.inputs.validator = _validate_inputs
        spec.inputs['metadata']['options']['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
        spec.inputs['metadata']['options']['withmpi'].default = False
        single_threaded(spec)
        spec.inputs['metadata']['options']['parser_name'].default = 'defectgenome.lammps'
        spec.inputs['metadata']['options']['input_filename'].default = cls._INPUT_FILE
        spec.inputs['metadata']['options']['output_filename'].default = cls._OUTPUT_FILE

        spec.output('output_parameters', valid_type=orm.Dict, help='Energy, stress, volume, run information.')
        spec.output('structure', valid_type=orm.StructureData, required=False, help='The final structure.')
        spec.output('thermo', valid_type=orm.ArrayData, required=False, help='Per-step thermo columns + stage.')
        spec.output(
            'per_atom',
            valid_type=orm.ArrayData,
            required=False,
            help='Final `forces` (n, 3) eV/A, `energies` (n,) eV, `ids` (n,) LAMMPS atom ids (by id).',
        )
        spec.default_output_node = 'output_parameters'

        spec.exit_code(301, 'ERROR_LOG_MISSING', message='LAMMPS wrote no log: it did not start. See aiida.out.')
        spec.exit_code(302, 'ERROR_FINAL_OUTPUT_MISSING', message='LAMMPS stopped before writing its final results.')
        spec.exit_code(303, 'ERROR_OUTPUT_PARSING', message='The LAMMPS output could not be parsed: {error}')
        spec.exit_code(310, 'ERROR_LAMMPS_RUN', message='LAMMPS stopped with an error: {error}')
        spec.exit_code(311, 'ERROR_POTENTIAL_FILE', message='LAMMPS could not read a potential file: {error}')
        spec.exit_code(410, 'ERROR_LOST_ATOMS', message='Atoms were lost (flew out of the box): {error}')
        spec.exit_code(
            401,
            'ERROR_MINIMIZATION_NOT_CONVERGED',
            message='A minimisation stopped on {criterion} before reaching its tolerance; outputs are attached.',
        )

    def prepare_for_submission(self, folder):
        structure = self.inputs.structure
        potential = self.inputs.potential
        parameters = lammps_input.validate_parameters(self.inputs.parameters.get_dict() if 'parameters' in self.inputs else {})
        data, script = lammps_input.render_run(
            structure.get_ase(), potential.species, potential.pair_commands, parameters, self._DATA_FILE
        )
        with folder.open(self._DATA_FILE, 'w') as handle:
            handle.write(data)
        with folder.open(self.options.input_filename, 'w') as handle:
            handle.write(script)

        codeinfo = datastructures.CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        # the log only: LAMMPS' screen output would repeat it in the retrieved stdout
        codeinfo.cmdline_params = ['-in', self.options.input_filename, '-log', lammps_input.LOG_FILE, '-screen', 'none']
        codeinfo.stdout_name = self.options.output_filename

        calcinfo = datastructures.CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.local_copy_list = [(potential.uuid, name, name) for name in potential.filenames]
        calcinfo.retrieve_list = [lammps_input.LOG_FILE, self.options.output_filename, lammps_input.FINAL_JSON]
        if parameters['retrieve_atoms']:  # else the final atoms stay on the computer with the dumps
            calcinfo.retrieve_list.append(lammps_input.FINAL_DUMP)
        return calcinfo
