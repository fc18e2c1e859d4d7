"""The shared core of the Byzantine case studies: robots, Byzantine strategies, the message layer
and the three protocols (LCP, W-MSR, DBP) as the filter between messages and agents.

A case study is a distributed estimation task. Every robot keeps an estimate of a quantity
(``value_dim`` numbers: the target's position, the time, its own position) and broadcasts it
each step over the communication graph, signed (:mod:`swarmzoo.envs.core.byzantine.messages`). Some
robots, the *checkers*, also sense the quantity first-hand this step (a robot in range of the
target, a robot with a GPS time fix, an anchor that knows its position); the rest learn it only
from their neighbours.

Each step of every env copy::

    1. agents' actions move their estimates (Byzantine robots' honest estimates follow the
       protocol's step; exposed as agents, they choose their lie instead)
    2. the world advances (target motion, clock drift) and checkers sense
    3. broadcast: cooperative robots send their estimates, Byzantine robots what their strategy
       says; every message is tagged and verified against this episode and round, so forgeries
       and replays of old messages are dropped
    4. DBP only: checkers compare each neighbour's message with what they sense; a deviation
       beyond ``check_tolerance`` is a signed accusation, flooded over the cooperative graph
       (Byzantine robots may add false accusations in their own name; accusations between
       robots that are not neighbours are refused, repeats change nothing); each cooperative
       component computes its blocklist with :func:`swarmzoo.algorithms.dbp.blocklist`
    5. the filter: ``protocol="lcp"`` accepts every verified message, ``"wmsr"`` trims the
       ``wmsr_f`` most extreme values on each side (per coordinate), ``"dbp"`` drops messages of
       blocklisted robots and of robots the receiver accused itself
    6. observations show each agent its own sensing, the accepted messages and the protocol's
       consensus step (LCP mean of the accepted values, minus its own estimate)

The scripted consensus protocol (the env's heuristic policy) is: a checker moves to what it
senses, everyone else takes the consensus step.

Robots are the PettingZoo agents ``robot_0 .. robot_{C-1}`` (the C cooperative robots, in index
order; which robots are Byzantine is drawn per episode unless ``byzantine_ids`` fixes it). With
``byzantine_agents=True`` the F Byzantine robots are agents too (``byzantine_0 ..``): their
action is the lie added to their honest estimate, their reward the cooperative robots' error.

The package, one concern per module (:class:`ByzantineTask` mixes them in):

* ``config``: :class:`ByzantineConfig`, the attacks, protocols, graphs and checks it accepts;
* ``graph``: static links, placement and the padded neighbour lists;
* ``exchange``: one round's traffic: arrival, loss, listening, accusation flooding;
* ``messages``: signed messages and the ideal layer's accusation ledger;
* ``network``: the lossy, delayed, multi-hop radio network (``flood_hops``);
* ``attacks``: what Byzantine robots send (lies, equivocation, forgeries, replays, Sybils, jamming);
* ``protocols``: what each robot executes: evidence, checks, accusations, the filter and the
  consensus step, with ``wmsr`` (W-MSR trimming, the trimmed mean) and ``dbp`` (the blocklist);
* ``views``: observations, state and drawing;
* ``task``: :class:`ByzantineTask` itself: its arrays, reset, step and metrics.
"""

from swarmzoo.envs.core.byzantine.config import (
    ATTACKS,
    CHECKS,
    DEFAULT_BYZANTINE_FRACTION,
    GRAPHS,
    PROTOCOLS,
    Attack,
    ByzantineConfig,
    harary_edges,
)
from swarmzoo.envs.core.byzantine.task import ByzantineTask

__all__ = [
    "ATTACKS",
    "CHECKS",
    "DEFAULT_BYZANTINE_FRACTION",
    "GRAPHS",
    "PROTOCOLS",
    "Attack",
    "ByzantineConfig",
    "ByzantineTask",
    "harary_edges",
]
