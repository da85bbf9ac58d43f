"""Services of a running project (三(三), 三(五)): reports, change requests, summary,
documents, the archive and reminders (issue 4)."""
