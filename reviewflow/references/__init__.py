"""Reference identity: the lockfile of what each DOI, PMID and PMCID resolves to, the registry
clients that fill it (`reviewflow refs fetch`, the only network use), and the matching of a
reference as written against the work its identifier names."""
