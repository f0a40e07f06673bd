"""axe-core, vendored for the console's accessibility check (see README.md here)."""
