"""Policies: scripted controllers (one heuristic baseline per env) and, later, networks."""
