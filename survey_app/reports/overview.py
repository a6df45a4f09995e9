"""Report pages: overview (routes registered on survey_app.reports.bp)."""
