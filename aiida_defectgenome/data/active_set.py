"""``ActiveSetData``: a D-optimal active set (standardisation, active rows, inverse) as one node."""

from __future__ import annotations

from aiida import orm

from ..core.doptimality.active_set import ActiveSet

__all__ = ('ActiveSetData',)

_ARRAYS = ('mean', 'scale', 'rows', 'inverse', 'sources')
_NUMBERS = ('tol', 'epsilon', 'virtual_rows', 'pool_size', 'iterations', 'max_pool_grade')


class ActiveSetData(orm.ArrayData):
    """An :class:`~aiida_defectgenome.core.doptimality.active_set.ActiveSet`.

    Arrays ``mean``, ``scale`` ``(m,)``, ``rows``, ``inverse`` ``(m, m)``, ``sources`` ``(m,)``; attributes
    ``descriptor`` (its parameters), ``size`` (m), ``tol``, ``epsilon``, ``virtual_rows``, ``pool_size``,
    ``iterations``, ``max_pool_grade``. Queryable by descriptor: ``attributes.descriptor.twojmax``.
    """

    def __init__(self, active_set: ActiveSet | None = None, **kwargs):
        super().__init__(**kwargs)
        if active_set is not None:
            for name in _ARRAYS:
                self.set_array(name, getattr(active_set, name))
            self.base.attributes.set('descriptor', dict(active_set.descriptor))
            self.base.attributes.set('size', active_set.size)
            for name in _NUMBERS:
                self.base.attributes.set(name, getattr(active_set, name))

    @property
    def descriptor(self) -> dict:
        return self.base.attributes.get('descriptor')

    @property
    def size(self) -> int:
        return self.base.attributes.get('size')

    def get_active_set(self) -> ActiveSet:
        """Return the core :class:`ActiveSet` this node holds."""
        return ActiveSet(
            descriptor=self.descriptor,
            **{name: self.get_array(name) for name in _ARRAYS},
            **{name: self.base.attributes.get(name) for name in _NUMBERS},
        )
