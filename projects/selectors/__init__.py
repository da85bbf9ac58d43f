"""Read-side queries (LAYOUT.md): what pages, panels, reminders and statistics show.

Each module answers questions about the data and never writes."""
