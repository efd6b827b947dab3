"""Media as a library: sniffing, probing, derivatives and hashing of evidence files; no Flask."""
