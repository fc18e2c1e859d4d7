"""The message layer: authenticated robot-to-robot messages and flooded, signed accusations.

Every robot holds a secret key (drawn per episode); a message carries its sender's id and an
HMAC-SHA256 tag over its content, so nobody without the sender's key can make a message or an
accusation that verifies as the sender's. Byzantine robots hold only their own keys: they can
lie in their own messages and accuse anyone in their own name, but a message or accusation
forged in another robot's name fails verification and is dropped by whoever receives it.

In the simulation a message signed with its sender's own key verifies by construction, so only
messages that can fail -- those made without the claimed sender's key (the ``"forge"`` attack)
or replayed from another round or episode (``"replay"``) -- are actually signed and verified
each step; honest traffic carries its tag implicitly.

Freshness: a value broadcast's signed content holds the episode nonce and the round (step), and
an accusation's the episode nonce. A receiver verifies a tag against the content it expects
*now* (:func:`verify_value`, :func:`verify_accusation`), so a genuine tag replayed from an
earlier round or episode fails exactly as a forgery does. Accusations carry no round on purpose:
an accusation stands for the whole episode, so replaying one within the episode re-delivers the
same signed content -- a duplicate, which flooding de-duplicates and the blocklist ignores -- and
only another episode's accusations (where the accused may now be cooperative) need refusing.

Accusations are about neighbours: a robot accuses a neighbour whose broadcast contradicts what it
senses. The communication graph is fixed for an episode (the robots do not move) and known to
every robot, so a receiver refuses an accusation whose accuser could not have heard the accused
(:meth:`AccusationLedger.add` is only called for accusations between neighbours; see
``ByzantineTask._flood``).

Accusations are flooded: a robot forwards every new verified accusation to its neighbours, once.
Cooperative robots always forward; Byzantine robots may drop what they relay but cannot alter it.
Flooding completes within a protocol round (communication is fast compared with the control
step), so the robots of one connected component of the *cooperative* communication graph end up
with the same accusation set -- whatever Byzantine relays do -- and
:func:`swarmzoo.algorithms.dbp.blocklist` gives them the same blocklist. An (F+1)-connected graph
keeps the cooperative graph connected with F robots removed: one component, one blocklist.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from swarmzoo.envs.core.byzantine.dbp import blocklist_mask

TAG_BYTES = 16  # truncated HMAC-SHA256 (128 bits)


class KeyRing:
    """Per-robot secret keys of one episode, and signing / verification with them.

    Args:
        n_robots: robots ``0 .. n_robots - 1``.
        secret: the episode's master secret (keys are ``HMAC(secret, robot id)``).
    """

    def __init__(self, n_robots: int, secret: bytes) -> None:
        self.keys = [hmac.digest(secret, struct.pack("<q", i), hashlib.sha256) for i in range(n_robots)]

    def sign(self, robot: int, payload: bytes) -> bytes:
        """``robot``'s tag on ``payload``."""
        return hmac.digest(self.keys[robot], payload, hashlib.sha256)[:TAG_BYTES]

    def verify(self, robot: int, payload: bytes, tag: bytes) -> bool:
        """Whether ``tag`` is ``robot``'s tag on ``payload`` (constant-time comparison)."""
        return hmac.compare_digest(self.sign(robot, payload), tag)


def value_payload(nonce: bytes, step: int, sender: int, value: np.ndarray) -> bytes:
    """The signed content of a value broadcast: episode nonce, step, sender and the value."""
    return b"val" + nonce + struct.pack("<qq", step, sender) + np.ascontiguousarray(value, "<f8").tobytes()


def accusation_payload(nonce: bytes, accuser: int, accused: int) -> bytes:
    """The signed content of an accusation (one per pair and episode)."""
    return b"acc" + nonce + struct.pack("<qq", accuser, accused)


def verify_value(keys: KeyRing, nonce: bytes, step: int, sender: int, value: np.ndarray, tag: bytes) -> bool:
    """Whether ``tag`` is ``sender``'s tag on ``value`` for this episode (``nonce``) and round
    (``step``): a forgery, or a genuine tag replayed from another round or episode, fails."""
    return keys.verify(sender, value_payload(nonce, step, sender, value), tag)


def verify_accusation(keys: KeyRing, nonce: bytes, accuser: int, accused: int, tag: bytes) -> bool:
    """Whether ``tag`` is ``accuser``'s tag on accusing ``accused`` in this episode (``nonce``): a
    forgery, or a genuine accusation replayed from another episode, fails."""
    return keys.verify(accuser, accusation_payload(nonce, accuser, accused), tag)


class AccusationLedger:
    """One env copy's verified accusations and who has received them.

    Args:
        n_robots: robots in the copy.
        components: ``(n_robots,)`` connected-component label of each cooperative robot in the
            cooperative communication graph, ``-1`` for Byzantine robots.
    """

    def __init__(self, n_robots: int, components: np.ndarray) -> None:
        self.n_robots = n_robots
        self.components = components
        self.n_components = int(components.max()) + 1 if (components >= 0).any() else 0
        # accusation (accuser, accused) -> set of components it reached
        self.reach: dict[tuple[int, int], set[int]] = {}
        self._views: np.ndarray | None = None

    def add(self, accuser: int, accused: int, components: set[int]) -> bool:
        """Record a verified accusation flooded into ``components``; True if anything changed."""
        key = (int(accuser), int(accused))
        have = self.reach.setdefault(key, set())
        if components <= have:
            return False
        have |= components
        self._views = None
        return True

    def views(self) -> np.ndarray:
        """``(C + 1, n_robots)`` bool: row ``c`` is component ``c``'s blocklist; the last row is
        the blocklist of every accusation (what a robot that heard everything computes)."""
        if self._views is None:
            rows = [
                blocklist_mask([a for a, comps in self.reach.items() if c in comps], self.n_robots)
                for c in range(self.n_components)
            ]
            rows.append(blocklist_mask(self.reach, self.n_robots))
            self._views = np.stack(rows)
        return self._views


def cooperative_components(
    n_robots: int, src: np.ndarray, dst: np.ndarray, byzantine: np.ndarray
) -> np.ndarray:
    """Component labels of the cooperative robots in the graph with links ``src -> dst``
    restricted to cooperative endpoints; ``-1`` for Byzantine robots."""
    coop = ~byzantine
    keep = coop[src] & coop[dst]
    graph = coo_matrix((np.ones(int(keep.sum())), (src[keep], dst[keep])), shape=(n_robots, n_robots))
    _, labels = connected_components(graph, directed=False)
    # Relabel the cooperative components 0 .. C-1 in order of their smallest robot.
    out = np.full(n_robots, -1, dtype=np.int64)
    seen: dict[int, int] = {}
    for r in np.flatnonzero(coop):
        out[r] = seen.setdefault(int(labels[r]), len(seen))
    return out
