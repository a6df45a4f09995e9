"""Report pages: team (routes registered on survey_app.reports.bp)."""
