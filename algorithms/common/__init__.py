"""Pieces two or more algorithms share (rollout storage, GAE, normalisers, logging)."""
