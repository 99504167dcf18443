"""The merge gate: a change's articles, review events and configuration, judged."""
