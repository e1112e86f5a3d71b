"""The ground floor: errors, the database seam, process identity, logging and the offline environment.

Imports nothing of ours; every layer may use it."""
