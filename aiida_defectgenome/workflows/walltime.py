"""The restart on a scheduler's walltime kill, shared by the base work chains of the package's codes."""

from __future__ import annotations

from aiida.engine import CalcJob, ProcessHandlerReport, process_handler

__all__ = ('WalltimeRestart',)


class WalltimeRestart:
    """Mixin of a ``BaseRestartWorkChain`` whose inputs are ``self.ctx.inputs``: a job the scheduler stopped
    at its walltime (exit 120; the parsers keep that code) runs again from the start with twice the time."""

    #: Walltime (s) assumed for a job that set none.
    DEFAULT_WALLTIME = 3600

    @process_handler(priority=400, exit_codes=CalcJob.exit_codes.ERROR_SCHEDULER_OUT_OF_WALLTIME)
    def handle_out_of_walltime(self, calculation):
        """Double ``max_wallclock_seconds`` and run again (the codes here keep no restart files)."""
        options = self.ctx.inputs.setdefault('metadata', {}).setdefault('options', {})
        walltime = 2 * (calculation.get_option('max_wallclock_seconds') or self.DEFAULT_WALLTIME)
        options['max_wallclock_seconds'] = walltime
        self.report(f'{calculation.process_label}<{calculation.pk}> ran out of walltime; retrying with {walltime} s.')
        return ProcessHandlerReport(True)
