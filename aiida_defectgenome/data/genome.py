"""``GenomeGroup``: a group of configurations that belong to one dataset of a defect genome."""

from aiida import orm

__all__ = ('GenomeGroup',)


class GenomeGroup(orm.Group):
    """A dataset of a genome: ``StructureData`` members, each with its labels node named in extra ``dg_labels``."""
