"""paperbell's engine: sources, matching, summaries, rendering, email and scheduling.

Everything here is shared by the CLI (`digest.cli`), the Discord bot (`bot`) and the running
service (`digest.runtime`); the pure core (query language, matching, ranking, summaries, digest
assembly) takes plain data and returns plain data.
"""

__version__ = "0.1.0"
