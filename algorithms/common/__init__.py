"""Pieces the trainers share: GAE (``gae``), minibatch indices over active samples
(``minibatch``), value and observation normalisers (``normalization``), run set-up, checkpoint
checks and the PPO losses (``ppo``), the run logger (``logging``), training envs from ids and
``KEY=VALUE`` arguments (``vector``) and learning-curve plots (``plotting``)."""
