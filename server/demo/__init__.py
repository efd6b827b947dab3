"""The demo bureau: realistic units, sites, people, plans, checks and findings."""
