"""YAML protocols of the workflows: ``<workflow>.yaml`` with ``default_protocol`` and ``protocols``."""

from __future__ import annotations

from importlib import resources

import yaml

__all__ = ('merge_overrides', 'protocol_file', 'protocol_names', 'read_protocol')


def protocol_file(workflow: str) -> dict:
    """Return the whole protocol file of ``workflow`` (protocols and the keys they share)."""
    return yaml.safe_load(resources.files(__name__).joinpath(f'{workflow}.yaml').read_text())


def protocol_names(workflow: str) -> list[str]:
    """Return the protocol names of ``workflow`` (e.g. ``'pcc_gcmc'``), in file order."""
    return list(protocol_file(workflow)['protocols'])


def read_protocol(workflow: str, name: str | None = None) -> tuple[str, dict]:
    """Return ``(name, protocol)`` of ``workflow``: the default one when ``name`` is ``None``; ValueError if unknown."""
    data = protocol_file(workflow)
    name = name or data['default_protocol']
    if name not in data['protocols']:
        raise ValueError(f'unknown protocol `{name}`; known: {", ".join(data["protocols"])}')
    return name, data['protocols'][name]


def merge_overrides(values: dict, overrides: dict | None) -> dict:
    """Return ``values`` with ``overrides`` applied: nested dicts are merged key by key, anything else replaced."""
    merged = dict(values)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = value
    return merged
