"""Request (Create / Update) and response (Public) schemas."""
