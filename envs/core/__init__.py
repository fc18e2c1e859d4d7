"""The only physics in swarmzoo: batched state, integration, contacts, sensing, comm graph,
rendering, and the two faces (PettingZoo and vector) every task shares."""

from swarmzoo.envs.core.arena import Arena, apply_walls, min_image, wrap
from swarmzoo.envs.core.dense import Neighbors
from swarmzoo.envs.core.neighbors import CommGraph, comm_graph, knn, radius_pairs
from swarmzoo.envs.core.parallel import SwarmParallelEnv
from swarmzoo.envs.core.physics import PointMassParams, integrate, obstacle_contacts, robot_contacts
from swarmzoo.envs.core.task import SwarmTask, validate_actions
from swarmzoo.envs.core.vector import SwarmVectorEnv

__all__ = [
    "Arena",
    "CommGraph",
    "Neighbors",
    "PointMassParams",
    "SwarmParallelEnv",
    "SwarmTask",
    "SwarmVectorEnv",
    "apply_walls",
    "comm_graph",
    "integrate",
    "knn",
    "min_image",
    "obstacle_contacts",
    "radius_pairs",
    "robot_contacts",
    "validate_actions",
    "wrap",
]
