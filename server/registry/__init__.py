"""The registry: units, sites, people and finding categories."""
