"""``aiida-defectgenome demo``."""

import click

from . import cmd_root
from .utils import user_errors


@cmd_root.command('demo')
@click.option('--group', 'group_label', default='W-basic', show_default=True, help='Genome group for the basic set.')
@click.option(
    '--output', default='defectgenome-demo', show_default=True, type=click.Path(file_okay=False), help='Folder for the plots.'
)
@click.option(
    '--reference-labeler',
    metavar='POTENTIAL',
    help='Label with this registered potential (e.g. meam-W) instead of GPAW: a surrogate for DFT, to try the '
    'machinery in minutes; its labels are never mixed with DFT labels.',
)
@click.pass_context
@user_errors
def cmd_demo(ctx, group_label, output, reference_labeler):
    """Run the demo on the current profile, setting up what is missing first.

    Relaxes bcc W with the EAM of Zhou et al. in LAMMPS through AiiDA, imports the W basic DFT set
    (678 configurations, Shuang et al. 2025), runs the `demo` campaign (EIP sampling, PCC-GCMC, GPAW
    labels, SNAP training, one active-learning round; about 7 minutes on 2 cores) and ends with a
    summary table and plots (gamma distributions, PCC-GCMC energy map, parity, learning curve).
    """
    from ..tools.demo import run_demo
    from ..tools.environment import ensure_codes, ensure_computer, ensure_profile

    for note in ensure_profile(ctx.find_root().params.get('profile')):
        click.echo(note)
    computer, notes = ensure_computer()
    for note in notes + ensure_codes(computer):
        click.echo(note)
    run_demo(echo=click.echo, group_label=group_label, output=output, reference_labeler=reference_labeler)
