"""``LammpsParser``: energy, stress, thermo, final structure and per-atom data of a ``LammpsCalculation``."""

from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.parsers import Parser
from ase import Atoms

from ..core.lammps import inputs as lammps_input
from ..core.lammps import outputs as lammps_output
from . import scheduler_error

__all__ = ('LammpsParser',)


class LammpsParser(Parser):
    """Parse ``log.lammps``, ``final.json`` and ``final.dump``; vectors are rotated back to the input frame."""

    def parse(self, **kwargs):
        retrieved = self.retrieved
        names = retrieved.base.repository.list_object_names()
        if lammps_input.LOG_FILE not in names:
            return scheduler_error(self) or self.exit_codes.ERROR_LOG_MISSING
        log = lammps_output.parse_log(retrieved.base.repository.get_object_content(lammps_input.LOG_FILE))
        if log['errors']:
            return self._error_exit_code(log['errors'][0])
        parameters = self.node.inputs.parameters.get_dict() if 'parameters' in self.node.inputs else {}
        atoms = parameters.get('retrieve_atoms', True)  # else final.dump stayed on the computer
        if lammps_input.FINAL_JSON not in names or (atoms and lammps_input.FINAL_DUMP not in names):
            return scheduler_error(self) or self.exit_codes.ERROR_FINAL_OUTPUT_MISSING
        try:
            final = lammps_output.parse_final(
                retrieved.base.repository.get_object_content(lammps_input.FINAL_JSON),
                retrieved.base.repository.get_object_content(lammps_input.FINAL_DUMP) if atoms else None,
            )
        except (ValueError, KeyError) as exc:
            return self.exit_codes.ERROR_OUTPUT_PARSING.format(error=f'{type(exc).__name__}: {exc}')

        structure_in = self.node.inputs.structure
        _, rotation = lammps_input.lammps_frame(structure_in.cell)
        stress = rotation @ final['stress'] @ rotation.T
        natoms = final['natoms']
        self.out(
            'output_parameters',
            orm.Dict(
                {
                    'energy': final['energy'],
                    'energy_per_atom': final['energy'] / natoms,
                    'kinetic_energy': final['kinetic_energy'],
                    'natoms': natoms,
                    'volume': final['volume'],
                    'volume_per_atom': final['volume'] / natoms,
                    'stress': stress.tolist(),
                    'pressure': final['pressure_bar'] * lammps_output.BAR_TO_GPA,
                    'final_step': final['step'],
                    'stopping_criteria': log['stopping_criteria'],
                    'warnings': log['warnings'],
                    'lammps_version': log['version'],
                    'wall_time_s': log['wall_time_s'],
                    'units': {'energy': 'eV', 'length': 'A', 'stress': 'GPa', 'pressure': 'GPa'},
                }
            ),
        )
        if atoms:
            self.out('structure', self._final_structure(final, rotation, structure_in))
            per_atom = orm.ArrayData()
            per_atom.set_array('forces', final['forces'] @ rotation.T)
            per_atom.set_array('energies', final['energies'])
            per_atom.set_array('ids', final['ids'])
            self.out('per_atom', per_atom)
        if log['thermo']:
            self.out('thermo', self._thermo(log['thermo']))

        unconverged = [c for c in log['stopping_criteria'] if c in ('max iterations', 'max force evaluations')]
        if unconverged:
            return self.exit_codes.ERROR_MINIMIZATION_NOT_CONVERGED.format(criterion=unconverged[0])
        return None

    def _error_exit_code(self, message: str):
        kind = lammps_output.classify_error(message)
        exit_code = {
            'lost_atoms': self.exit_codes.ERROR_LOST_ATOMS,
            'potential_file': self.exit_codes.ERROR_POTENTIAL_FILE,
        }.get(kind, self.exit_codes.ERROR_LAMMPS_RUN)
        return exit_code.format(error=message)

    def _final_structure(self, final, rotation, structure_in) -> orm.StructureData:
        parameters = self.node.inputs.parameters.get_dict() if 'parameters' in self.node.inputs else {}
        species = lammps_input.type_elements(self.node.inputs.potential.species, parameters.get('frozen', 0))
        atoms = Atoms(
            symbols=[species[t - 1] for t in final['types']],
            positions=final['positions'] @ rotation.T,
            cell=final['cell'] @ rotation.T,
            pbc=structure_in.pbc,
        )
        return orm.StructureData(ase=atoms)

    @staticmethod
    def _thermo(blocks) -> orm.ArrayData:
        """Concatenate the thermo blocks of all stages; the ``stage`` array tells which row is which."""
        thermo = orm.ArrayData()
        columns = blocks[0].keys()
        for column in columns:
            thermo.set_array(column, np.concatenate([block[column] for block in blocks if column in block]))
        thermo.set_array('stage', np.concatenate([np.full(len(b['step']), i) for i, b in enumerate(blocks)]))
        return thermo
