"""Admin for a running project's records: reports, change requests, summary, documents
(issue 4)."""
