"""Reporting: the INT overview, team, activation and ICB reports, staff results and
actions (domain modules here; pages in views/, drawing in charts/, files in exports/)."""
