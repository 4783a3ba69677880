"""The ``aiida-defectgenome`` command."""

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


from . import (  # noqa: E402,F401  (registers the subcommands)
    cmd_campaign,
    cmd_demo,
    cmd_gamma,
    cmd_genome,
    cmd_label,
    cmd_pcc_gcmc,
    cmd_potential,
    cmd_sample,
    cmd_setup,
    cmd_train,
)
