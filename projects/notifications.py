"""Mail sent after a transition commits (registered in services.AFTER_COMMIT)."""
