"""Pure statistics for Pulse: numbers in, frozen dataclasses out.

Nothing here imports Flask, SQL or ``survey_app``; every report, export and API
answer of Pulse is computed by these functions.
"""
