"""Reading a page image: registration, identification, tick boxes and text."""
