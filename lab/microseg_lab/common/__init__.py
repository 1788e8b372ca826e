"""Product-neutral building blocks of the lab (HTTPS server, PKI, counters, faults, persistence)."""
