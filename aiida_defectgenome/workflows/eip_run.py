"""``EipRunWorkChain``: one EIP simulation with restarts and, as soon as it ends, the selection on its folder.

The sampling workchain starts one per scenario and potential, so each selection follows its own run
instead of waiting for the slowest simulation of the campaign. It is a ``LammpsBaseWorkChain`` (the same
restart handlers) with the selection as its last steps: one process less per run than a workchain that
wraps a ``LammpsBaseWorkChain``, which on the fast protocol was a third of AiiDA's start-up time.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, while_

from ..calculations.selection import SelectionCalculation
from .lammps_base import LammpsBaseWorkChain

__all__ = ('EipRunWorkChain',)


class EipRunWorkChain(LammpsBaseWorkChain):
    """Run LAMMPS (restarting as ``LammpsBaseWorkChain`` does), then the ``SelectionCalculation`` on its folder."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(SelectionCalculation, include=('active_set', 'mtp', 'mlp_code'))
        spec.input('selection', valid_type=orm.Dict, help='SelectionCalculation parameters (species, provenance, settings).')
        spec.input('selection_code', valid_type=orm.AbstractCode)
        spec.outline(
            cls.setup,
            while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
            cls.results,
            cls.select,
            cls.attach_selection,
        )
        spec.expose_outputs(SelectionCalculation, exclude=('remote_folder', 'retrieved'))
        for name in ('cluster_info', 'summary'):  # attached by `attach_selection`, not by the LAMMPS `results` step
            spec.outputs[name].required = False
        spec.exit_code(410, 'ERROR_SELECTION_FAILED', message='{message}')

    def select(self):
        lammps = self.ctx.children[self.ctx.iteration - 1]
        selection = self.submit(
            SelectionCalculation,
            code=self.inputs.selection_code,
            parent_folder=lammps.outputs.remote_folder,
            parameters=self.inputs.selection,
            **self.exposed_inputs(SelectionCalculation),
            metadata={'call_link_label': 'selection'},
        )
        return ToContext(selection=selection)

    def attach_selection(self):
        node = self.ctx.selection
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_SELECTION_FAILED.format(message=f'{node.process_label}<{node.pk}>: {node.exit_message}')
        self.out_many(self.exposed_outputs(node, SelectionCalculation))
        return None
