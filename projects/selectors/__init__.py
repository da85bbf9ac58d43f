"""Read-side queries (LAYOUT.md): what the dashboard panels, list filters, reminders and
statistics show, each rule defined once. Nothing here writes."""
