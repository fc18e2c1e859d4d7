"""Pieces the trainers share: the run skeleton (``run``: :class:`~swarmzoo.algorithms.common.run.BaseArgs`,
:class:`~swarmzoo.algorithms.common.run.Run`), GAE and its bootstrap values (``gae``), the clipped
PPO losses (``losses``), minibatch indices over active samples (``minibatch``), the run logger
(``logging``), training envs from ids and ``KEY=VALUE`` arguments (``vector``) and learning-curve
plots (``plotting``). The value and observation normalisers live with the networks, in
:mod:`swarmzoo.agents.normalization`."""
