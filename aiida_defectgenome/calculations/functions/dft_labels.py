"""``vasp_labels``: a calcfunction turning a VASP run's parsed ``misc`` output into a labels table."""

from __future__ import annotations

from aiida import orm
from aiida.engine import calcfunction

from ...core.dft.vasp_labels import labels_from_vasp
from ...data.labels import labels_table

__all__ = ('vasp_labels',)


@calcfunction
def vasp_labels(misc: orm.Dict, settings: orm.Dict) -> orm.ArrayData:
    """Return a one-row labels table (engine ``VASP``, the run's ``settings`` as attribute) from ``misc``."""
    table = labels_table([labels_from_vasp(misc.get_dict())], engine='VASP')
    table.base.attributes.set('settings', settings.get_dict())
    return table
