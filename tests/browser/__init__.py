"""Helpers for the publish tests: read built pages as a tree, and serve a site to a browser."""
