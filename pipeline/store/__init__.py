"""The response store: batches, files, pages, answers and online responses, over SQLAlchemy."""
