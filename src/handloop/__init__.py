"""handloop: self-hosted human review for ML teams, wire-compatible with Amazon A2I."""

__version__ = "0.1.0"
