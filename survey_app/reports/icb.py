"""Report pages: icb (routes registered on survey_app.reports.bp)."""
