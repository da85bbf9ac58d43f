class WorkflowError(Exception):
    """A refused request, with the Chinese sentence to show the user. Nothing was changed."""

    def __init__(self, message: str | list[str]):
        self.messages = [message] if isinstance(message, str) else list(message)
        super().__init__("；".join(self.messages))
