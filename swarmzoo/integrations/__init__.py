"""Adapters to other RL libraries (Stable-Baselines3; later RLlib, TorchRL)."""
