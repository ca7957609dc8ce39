"""``python -m geo_sigap.cli``: the same command line as ``geo-sigap``."""

from geo_sigap.cli.main import app

app()
