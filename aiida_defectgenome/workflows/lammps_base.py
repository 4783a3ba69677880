"""``LammpsBaseWorkChain``: a ``LammpsCalculation`` that restarts on the failures it knows how to fix."""

from __future__ import annotations

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import BaseRestartWorkChain, ProcessHandlerReport, process_handler, while_

from ..calculations.lammps import LammpsCalculation
from ..core.lammps.inputs import validate_parameters
from ..protocols import merge_overrides, read_protocol
from . import set_options
from .walltime import WalltimeRestart

__all__ = ('LammpsBaseWorkChain',)


class LammpsBaseWorkChain(WalltimeRestart, BaseRestartWorkChain):
    """Run a ``LammpsCalculation``; halve the MD timestep when atoms are lost, continue unconverged minimisations,
    run again with twice the walltime a job the scheduler stopped at its walltime."""

    _process_class = LammpsCalculation

    #: The smallest MD timestep (ps) the lost-atoms handler goes down to.
    MINIMUM_TIMESTEP = 1.0e-4

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(LammpsCalculation, namespace='lammps')
        spec.expose_outputs(LammpsCalculation)
        spec.outline(
            cls.setup,
            while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
            cls.results,
        )
        spec.exit_code(
            310, 'ERROR_TIMESTEP_TOO_SMALL', message='Atoms are still lost at the minimum timestep: the system explodes.'
        )

    @classmethod
    def get_builder_from_protocol(cls, code, structure, potential, *, protocol=None, overrides=None, options=None):
        """Return a builder running ``structure`` with ``potential`` by a protocol of ``lammps_base.yaml`` (``relax``,
        ``single_point``), ``overrides`` of its parameters (``{'stages': [...], 'thermo_every': 10}``) and ``options``
        (``metadata.options``); ValueError on parameters LAMMPS would refuse."""
        _, settings = read_protocol('lammps_base', protocol)
        parameters = merge_overrides(settings['parameters'], overrides)
        validate_parameters(parameters)
        builder = cls.get_builder()
        builder.lammps.code, builder.lammps.structure, builder.lammps.potential = code, structure, potential
        builder.lammps.parameters = orm.Dict(parameters)
        set_options(builder.lammps.metadata.options, options)
        return builder

    def setup(self):
        super().setup()
        self.ctx.inputs = AttributeDict(self.exposed_inputs(LammpsCalculation, 'lammps'))

    def _parameters(self) -> dict:
        parameters = self.ctx.inputs.parameters.get_dict() if 'parameters' in self.ctx.inputs else {}
        return validate_parameters(parameters)

    @process_handler(priority=500, exit_codes=LammpsCalculation.exit_codes.ERROR_LOST_ATOMS)
    def handle_lost_atoms(self, calculation):
        """Halve the timestep of every MD stage and run again from the input structure."""
        parameters = self._parameters()
        md_stages = [s for s in parameters['stages'] if 'timestep' in s]  # md, deform, indent, gcmc
        if not md_stages:
            self.report(f'{calculation.process_label}<{calculation.pk}> lost atoms in a minimisation: not fixable here.')
            return None
        if min(s['timestep'] for s in md_stages) / 2 < self.MINIMUM_TIMESTEP:
            return ProcessHandlerReport(True, self.exit_codes.ERROR_TIMESTEP_TOO_SMALL)
        for stage in md_stages:
            stage['timestep'] /= 2
        self.ctx.inputs.parameters = orm.Dict(parameters)
        self.report(
            f'{calculation.process_label}<{calculation.pk}> lost atoms; '
            f'restarting with MD timesteps halved to {[s["timestep"] for s in md_stages]} ps.'
        )
        return ProcessHandlerReport(True)

    @process_handler(priority=400, exit_codes=LammpsCalculation.exit_codes.ERROR_MINIMIZATION_NOT_CONVERGED)
    def handle_unconverged_minimization(self, calculation):
        """Start the minimisation-only run again from the structure where it stopped."""
        parameters = self._parameters()
        if any(s['type'] != 'minimize' for s in parameters['stages']) or not parameters['retrieve_atoms']:
            return None  # MD would run again; or the final structure stayed on the computer
        self.ctx.inputs.structure = calculation.outputs.structure
        energy = calculation.outputs.output_parameters['energy_per_atom']
        self.report(
            f'{calculation.process_label}<{calculation.pk}> stopped before convergence at {energy:.6f} eV/atom; '
            'continuing from its final structure.'
        )
        return ProcessHandlerReport(True)
