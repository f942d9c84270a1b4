"""What every importer returns: the samples it built and a count of what it skipped, and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from videostar.data.manifest import Sample


@dataclass
class ImportResult:
    samples: list[Sample] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> count
