"""The static site: which text each page shows, rendering, and the output directory."""
