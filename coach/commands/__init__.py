"""Subcommands of the ``coach`` CLI, one module each, imported lazily by :mod:`coach.cli`."""
