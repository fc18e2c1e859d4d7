"""Training algorithms (CTDE, Bayesian-network actor-critic, mean-field control, DBP)."""
