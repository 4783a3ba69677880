"""Services on genome groups that work chains and commands use: import/export and D-optimality."""
