"""One module per CLI command; each only parses flags and calls the library."""
