"""Read-only queries (LAYOUT.md): each rule of what is shown defined once."""
