"""One module per revision of the store's schema, oldest first (0001 is the first release)."""
