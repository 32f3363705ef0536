"""Use cases: permission checks, validation, writes, audit rows, commits."""
