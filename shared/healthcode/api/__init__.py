"""HTTP: the resolver every function uses, the one mapping of domain errors to problems, the callers'
identity from the authorizers' claims, and partner request authentication."""
