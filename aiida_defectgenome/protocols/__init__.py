"""YAML protocols of the workflows: ``<workflow>.yaml`` with ``default_protocol``, ``default_inputs`` (what every
protocol shares) and ``protocols`` (each protocol's ``description`` and what it changes, merged key by key)."""

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
    """Return ``(name, protocol)`` of ``workflow``: ``default_inputs`` with the protocol's own values merged in
    (the default protocol when ``name`` is ``None``); ValueError if unknown."""
    data = protocol_file(workflow)
    name = name or data['default_protocol']
    if name not in data['protocols']:
        raise ValueError(f'unknown protocol `{name}`; known: {", ".join(data["protocols"])}')
    return name, _merged(data.get('default_inputs', {}), data['protocols'][name], None, set(), '')


def merge_overrides(values: dict, overrides: dict | None, workflow: str | None = None, open_paths=()) -> dict:
    """Return ``values`` with ``overrides`` applied: nested dicts are merged key by key, anything else replaced.

    With ``workflow``, an override key that no protocol of ``workflow`` has at that place is a ``ValueError``
    naming it and the known keys, except below the dotted ``open_paths`` (dicts whose keys are the user's own,
    such as named structures, or are checked where they are used).
    """
    if workflow:
        data = protocol_file(workflow)
        known = _known_keys([data.get('default_inputs', {}), *data['protocols'].values()])
    else:
        known = None
    return _merged(values, overrides or {}, known, set(open_paths), '')


def _known_keys(protocols) -> dict:
    """The union of the protocols' keys, recursively: ``{key: nested known keys or None}``."""
    known = {}
    for protocol in protocols:
        for key, value in protocol.items():
            if isinstance(value, dict):
                known[key] = _known_keys([known.get(key) or {}, value])
            else:
                known.setdefault(key, None)
    return known


def _merged(values: dict, overrides: dict, known: dict | None, open_paths: set, path: str) -> dict:
    merged = dict(values)
    for key, value in overrides.items():
        where = f'{path}{key}'
        if known is not None and where not in open_paths and key not in known:
            place = f' in `{path[:-1]}`' if path else ''
            raise ValueError(f'unknown override `{where}`{place}; known: {", ".join(sorted(known))}')
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            deeper = None if known is None or where in open_paths else (known.get(key) or {})
            merged[key] = _merged(merged[key], value, deeper, open_paths, f'{where}.')
        else:
            merged[key] = value
    return merged
