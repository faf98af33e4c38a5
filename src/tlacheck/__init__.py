"""tlacheck: check TLA+ specs with TLC where it exists and a built-in checker everywhere."""
