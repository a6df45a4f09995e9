"""Report pages: activation (routes registered on survey_app.reports.bp)."""
