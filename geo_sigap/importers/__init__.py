"""Loading boundaries, teams and incident history from files into storage.

Every importer validates the whole file first and writes in one transaction: a broken
file raises :class:`geo_sigap.errors.ImportFailed` saying what and where, and nothing
from it is stored.
"""

from geo_sigap.importers.progress import Progress, null_progress

__all__ = ["Progress", "null_progress"]
