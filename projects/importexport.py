"""Excel in and out through django-import-export: safe base resource and one resource per
model (issue 6)."""
