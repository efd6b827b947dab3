"""The administrator's desk: people, their roles and units, passwords and phones."""
