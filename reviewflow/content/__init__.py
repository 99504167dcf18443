"""Articles as files: front-matter, schema, Markdown body, prose and citations."""
