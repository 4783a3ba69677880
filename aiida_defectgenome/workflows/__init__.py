"""WorkChains of aiida-defectgenome (see ``docs/source/reference``)."""


def process_failure(node) -> str:
    """One line telling which process ended badly and why: ``Label<pk> exit N: message``."""
    return f'{node.process_label}<{node.pk}> exit {node.exit_status}: {node.exit_message or node.process_state.value}'


def dict_validator(check):
    """A port validator for a ``Dict`` input: ``check(dict)`` of the core raises ``ValueError``, the port says why."""

    def validate(node, _):
        try:
            check(node.get_dict())
        except ValueError as exc:
            return str(exc)
        return None

    return validate


def port_name(name: str) -> str:
    """``name`` as a port or link label: every character but letters and digits becomes ``_``."""
    return ''.join(c if c.isalnum() else '_' for c in name)
