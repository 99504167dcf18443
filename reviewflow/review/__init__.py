"""The review workflow: events read from git, the state machine, queries and actions."""
