"""The one error type the command line answers with a message instead of a traceback.

Raise a subclass of ``VideostarError`` for anything a user can fix (bad input, a config field, a
full disk, an unreadable file); its text must name the file, line or field. ``videostar`` prints it
and exits non-zero; ``--debug`` shows the traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class VideostarError(Exception):
    """A problem the user can fix; the message says where (file, line, field) and what."""


class OutputError(VideostarError, OSError):
    """Writing an output failed (no space, no permission, ...): the message names the file."""
