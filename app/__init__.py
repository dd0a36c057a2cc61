"""Technology supply-demand exchange."""

__version__ = "0.1.0"
