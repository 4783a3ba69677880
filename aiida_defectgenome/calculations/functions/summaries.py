"""``workflow_summary``: a work chain's summary as data with a creator.

AiiDA's rule: a work chain returns data, it does not make it; what it tallied from its children is handed
to this calcfunction, whose output it returns (``verdi node show`` then names a creator for every output).
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import calcfunction

__all__ = ('workflow_summary',)


@calcfunction
def workflow_summary(summary: orm.Dict) -> orm.Dict:
    """Return a copy of ``summary`` (counts, group labels, failures: whatever the calling work chain tallied)."""
    return orm.Dict(summary.get_dict())
