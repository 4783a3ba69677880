"""``GpawBaseWorkChain``: a ``GpawCalculation`` that retries an unconverged SCF and a run out of walltime."""

from __future__ import annotations

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import BaseRestartWorkChain, ProcessHandlerReport, process_handler, while_

from ..calculations.gpaw import GpawCalculation
from ..core.jobs.gpaw_single_point import merged_parameters
from ..protocols import read_protocol
from . import set_options
from .walltime import WalltimeRestart

__all__ = ('GpawBaseWorkChain', 'gpaw_parameters')


def gpaw_parameters(protocol: str | None = None, overrides: dict | None = None) -> dict:
    """The complete GPAW parameters of a labelling ``protocol`` of ``dft_labeling.yaml`` (``fast``, ``moderate``,
    ``precise``) with ``overrides`` (GPAW parameters) replacing its values; ValueError on an unknown key."""
    _, settings = read_protocol('dft_labeling', protocol)
    return merged_parameters({**settings['gpaw'], 'kpoint_spacing': settings['kpoint_spacing'], **(overrides or {})})


class GpawBaseWorkChain(WalltimeRestart, BaseRestartWorkChain):
    """Run a ``GpawCalculation``; on an unconverged SCF first damp the mixing (and allow more iterations),
    then widen the smearing; on a run killed for walltime, run again with twice the walltime."""

    _process_class = GpawCalculation

    #: Mixing ``beta`` below which the SCF handler widens the smearing instead.
    MINIMUM_BETA = 0.01

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(GpawCalculation, namespace='gpaw')
        spec.expose_outputs(GpawCalculation)
        spec.outline(
            cls.setup,
            while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
            cls.results,
        )

    @classmethod
    def get_builder_from_protocol(cls, code, structure, *, protocol=None, overrides=None, options=None):
        """Return a builder for a single point of ``structure`` with the GPAW settings of a labelling ``protocol``
        (``fast``, ``moderate``, ``precise``), ``overrides`` (GPAW parameters) and ``options`` (``metadata.options``)."""
        builder = cls.get_builder()
        builder.gpaw.code, builder.gpaw.structure = code, structure
        builder.gpaw.parameters = orm.Dict(gpaw_parameters(protocol, overrides))
        set_options(builder.gpaw.metadata.options, options)
        return builder

    def setup(self):
        super().setup()
        self.ctx.inputs = AttributeDict(self.exposed_inputs(GpawCalculation, 'gpaw'))

    def _parameters(self) -> dict:
        return merged_parameters(self.ctx.inputs.parameters.get_dict() if 'parameters' in self.ctx.inputs else {})

    @process_handler(priority=500, exit_codes=GpawCalculation.exit_codes.ERROR_SCF_NOT_CONVERGED)
    def handle_scf_not_converged(self, calculation):
        """Halve the mixing and double ``maxiter``; once ``beta`` is at its floor, double the smearing width."""
        parameters = self._parameters()
        if parameters['mixer']['beta'] / 2 >= self.MINIMUM_BETA:
            parameters['mixer']['beta'] /= 2
            parameters['maxiter'] *= 2
            change = f'mixing beta {parameters["mixer"]["beta"]:g}, maxiter {parameters["maxiter"]}'
        else:
            parameters['smearing']['width'] *= 2
            change = f'smearing width {parameters["smearing"]["width"]:g} eV (labels differ from the protocol)'
        self.ctx.inputs.parameters = orm.Dict(parameters)
        self.report(f'{calculation.process_label}<{calculation.pk}>: SCF not converged; retrying with {change}.')
        return ProcessHandlerReport(True)
