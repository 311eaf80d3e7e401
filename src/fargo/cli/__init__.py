"""The command line: thin wrappers over the library, with --json on every command."""
