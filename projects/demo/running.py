def load(data) -> list[str]:
    return []
