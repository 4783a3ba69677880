"""Structures: defect builders, scenarios, cell geometry, local structure analysis, labelled datasets."""
