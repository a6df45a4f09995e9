"""Scheduling: schedules, cadence, the tick, dispatch, rosters, channels and the
scheduler process, with their admin pages and CLI."""
