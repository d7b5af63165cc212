"""Build-time scripts (not part of the installed packages)."""
