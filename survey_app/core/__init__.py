"""Infrastructure every feature shares: settings, the database, clock, errors, logs,
security headers, templating, extensions, audit, paging and the instrument accessor."""
