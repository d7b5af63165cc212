"""One module per app page; each defines ``render()``."""
