"""The review web app and what it decides: people check what the reader was unsure of."""
