"""The ``aiida-defectgenome`` command."""

import warnings

import click

__all__ = ('cmd_root',)


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.option(
    '-p',
    '--profile',
    metavar='NAME',
    help='AiiDA profile to use (default: the default profile of the configuration found through AIIDA_PATH).',
)
@click.version_option(package_name='aiida-defectgenome')
def cmd_root(profile):
    """Build defect genomes with AiiDA: EIP sampling, PCC-GCMC, DFT labels and MLIPs.

    Start with `aiida-defectgenome setup` (or go straight to `aiida-defectgenome demo`,
    which sets up what is missing). Every command works on the current AiiDA profile.
    """
    with warnings.catch_warnings(record=True) as caught:  # shown only if AiiDA starts
        try:
            import aiida  # noqa: F401 - reads AIIDA_PATH and creates its configuration folder
        except Exception as exc:  # noqa: BLE001 - aiida raises ConfigurationError while it is imported
            raise click.ClickException(f'AiiDA cannot start: {exc} (check AIIDA_PATH)') from exc
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


from . import (  # noqa: E402,F401  (registers the subcommands)
    cmd_campaign,
    cmd_demo,
    cmd_gamma,
    cmd_genome,
    cmd_label,
    cmd_orphans,
    cmd_pcc_gcmc,
    cmd_potential,
    cmd_sample,
    cmd_setup,
    cmd_train,
)
