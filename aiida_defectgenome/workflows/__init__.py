"""WorkChains of aiida-defectgenome (see ``docs/source/reference``)."""


def process_failure(node) -> str:
    """One line telling which process ended badly and why: ``Label<pk> exit N: message``."""
    return f'{node.process_label}<{node.pk}> exit {node.exit_status}: {node.exit_message or node.process_state.value}'
