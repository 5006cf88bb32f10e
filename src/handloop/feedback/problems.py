"""The one error an export raises for input a user got wrong (source, files, mapping)."""

from __future__ import annotations

from handloop.errors import ValidationError


class ExportInputError(ValidationError):
    """Input the export cannot use: the CLI prints the message and exits with status 2."""


class NoOutputYet(LookupError):
    """A loop that is not Completed has no output file (yet): skipped and counted."""
