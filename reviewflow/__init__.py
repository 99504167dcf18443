"""reviewflow: editorial review for medical content kept in git."""

__version__ = "0.1.0"
