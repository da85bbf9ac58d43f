"""Read-side queries (LAYOUT.md): what the dashboard panels, list filters, reminders and
statistics show. Nothing here writes."""
