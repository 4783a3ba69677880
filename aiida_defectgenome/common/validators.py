"""Port validators for ``Dict`` inputs built from the core's own checks (which raise ``ValueError``)."""

from __future__ import annotations

__all__ = ('dict_validator', 'elements_validator')


def dict_validator(check, prefix: str = '', errors: tuple = (ValueError,)):
    """A port validator for a ``Dict``: ``check(dict)`` raises one of ``errors``; the port says why, after ``prefix``."""

    def validate(node, _):
        try:
            check(node.get_dict())
        except errors as exc:
            return f'{prefix}{exc}'
        return None

    return validate


def elements_validator(check):
    """A validator of a training job's ``parameters``: ``elements`` (the potential's chemical elements)
    required, the rest given to ``check(elements, settings)``, whose ``ValueError`` it returns."""

    def validate(parameters, _):
        values = parameters.get_dict()
        if not values.get('elements'):
            return 'parameters need `elements`: the chemical elements of the potential'
        try:
            check(values['elements'], {key: value for key, value in values.items() if key != 'elements'})
        except ValueError as exc:
            return str(exc)
        return None

    return validate
