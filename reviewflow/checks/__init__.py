"""The check rules and what they need: readability, retractions; the run over files."""
