"""``EipRunWorkChain``: one EIP simulation and, as soon as it ends, the selection on its folder.

The sampling workchain starts one per scenario and potential, so each selection follows its own run
instead of waiting for the slowest simulation of the campaign.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, WorkChain

from ..calculations.selection import SelectionCalculation
from ..data.active_set import ActiveSetData
from .lammps_base import LammpsBaseWorkChain

__all__ = ('EipRunWorkChain',)


class EipRunWorkChain(WorkChain):
    """Run LAMMPS (``LammpsBaseWorkChain``), then the ``SelectionCalculation`` on the run's folder."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(LammpsBaseWorkChain, namespace='simulation')
        spec.input('active_set', valid_type=ActiveSetData)
        spec.input('selection', valid_type=orm.Dict, help='SelectionCalculation parameters (species, provenance, settings).')
        spec.input('selection_code', valid_type=orm.AbstractCode)
        spec.outline(cls.simulate, cls.select, cls.results)
        spec.expose_outputs(SelectionCalculation, exclude=('remote_folder', 'retrieved'))
        spec.exit_code(310, 'ERROR_SIMULATION_FAILED', message='{message}')
        spec.exit_code(320, 'ERROR_SELECTION_FAILED', message='{message}')

    def simulate(self):
        inputs = self.exposed_inputs(LammpsBaseWorkChain, 'simulation')
        inputs['metadata'] = {**inputs.get('metadata', {}), 'call_link_label': 'simulation'}
        return ToContext(simulation=self.submit(LammpsBaseWorkChain, **inputs))

    def select(self):
        node = self.ctx.simulation
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_SIMULATION_FAILED.format(message=f'{node.process_label}<{node.pk}>: {node.exit_message}')
        selection = self.submit(
            SelectionCalculation,
            code=self.inputs.selection_code,
            parent_folder=node.outputs.remote_folder,
            active_set=self.inputs.active_set,
            parameters=self.inputs.selection,
            metadata={'call_link_label': 'selection'},
        )
        return ToContext(selection=selection)

    def results(self):
        node = self.ctx.selection
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_SELECTION_FAILED.format(message=f'{node.process_label}<{node.pk}>: {node.exit_message}')
        self.out_many(self.exposed_outputs(node, SelectionCalculation))
        return None
