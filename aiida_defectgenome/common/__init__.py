"""Helpers every AiiDA layer shares: structures, extras, storage locks, process states, port validators."""
