"""What Byzantine robots do in the case studies: the values they send (bias, drift, collusion,
random, sleeper), equivocation, forged and replayed messages and accusations, Sybil identities
and jamming relays. False accusations are made with the cooperative ones, in
:meth:`~swarmzoo.envs.core.byzantine.protocols.ProtocolMixin._accuse`."""

from __future__ import annotations

import hashlib

import numpy as np

from swarmzoo.envs.core.byzantine.messages import (
    accusation_payload,
    value_payload,
    verify_accusation,
    verify_value,
)


class AttackMixin:
    """The Byzantine strategies of :class:`~swarmzoo.envs.core.byzantine.task.ByzantineTask`
    (mixed in)."""

    def _attack_active(self) -> np.ndarray:
        """``(E,)``: whether the Byzantine robots misbehave this step."""
        cfg = self.config
        t = self.steps - cfg.attack_start
        active = t >= 0
        if cfg.attack == "sleeper":
            active &= (t % (cfg.sleeper_on + cfg.sleeper_off)) < cfg.sleeper_on
        return active

    def _byzantine_values(self) -> np.ndarray:
        """What every robot sends if it is Byzantine, ``(E, R, d)``."""
        cfg = self.config
        est, B = self.estimate, cfg.attack_magnitude
        if cfg.byzantine_agents:
            return est + self.lie
        active = self._attack_active()[:, None, None]
        if cfg.attack in ("bias", "sleeper", "replay", "accuse_all", "jam"):
            lie = est + B * self.attack_dir
        elif cfg.attack == "collude":
            lie = self.truth() + B * self.attack_dir[:, :1, :]  # every robot of a copy: one direction
        elif cfg.attack == "drift":
            grown = np.minimum(cfg.drift_rate * np.maximum(self.steps - cfg.attack_start, 0), B)
            lie = est + grown[:, None, None] * self.attack_dir
        elif cfg.attack == "random":
            low, high = self.value_range()
            lie = self.truth() + self.rng.uniform(np.arange(self.n_envs), est.shape[1:], low, high)
        else:  # none, false_accusation, forge, accusation_flood, equivocate: honest values
            return est
        return np.where(active, lie, est)

    def _equivocation(self) -> np.ndarray | None:
        """``(E, R, K)``: where a receiver gets an equivocating sender's lie instead of the value
        it sent its checking neighbours (``"equivocate"`` only)."""
        cfg = self.config
        if cfg.attack != "equivocate" or cfg.byzantine_agents:
            return None
        lied_to = self.byzantine[np.arange(self.n_envs)[:, None, None], self._nbr_safe] & self.nbr_ok
        lied_to &= ~self.checker[..., None] & self._attack_active()[:, None, None]
        return lied_to if lied_to.any() else None

    def _forge(self, env_ids: np.ndarray) -> None:
        """The ``"forge"`` attack: each Byzantine robot sends a value in the name of its first
        cooperative neighbour to its other neighbours, and an accusation between two cooperative
        neighbours in their name. Without the victim's key the tags are wrong."""
        cfg = self.config
        E, R, K = self.nbr.shape
        active = self._attack_active()
        spoofed = np.zeros((E, R, K), dtype=bool)
        value = np.zeros((E, R, self.value_dim))
        for e in env_ids:
            e = int(e)
            if not active[e]:
                continue
            keys = self.keyrings[e]
            for b in np.flatnonzero(self.byzantine[e]):
                nb = self.nbr[e, b][self.nbr_ok[e, b]]
                victims = nb[~self.byzantine[e, nb]]
                if len(victims) == 0:
                    continue
                victim = int(victims[0])
                fake = self.truth()[e, victim] + cfg.attack_magnitude * self.attack_dir[e, b]
                payload = value_payload(self.nonces[e], int(self.steps[e]), victim, fake)
                # The forger signs with its own key: that is the best it can do.
                tag = keys.sign(int(b), payload) if keys is not None else b""
                if keys is not None and not keys.verify(victim, payload, tag):
                    self.forgeries_dropped[e] += 1
                else:  # unauthenticated: receivers that hear both take the forged one
                    for r in nb:
                        hit = self.nbr_ok[e, r] & (self.nbr[e, r] == victim)
                        spoofed[e, r] |= hit
                        value[e, r] = fake
                if len(victims) >= 2 and cfg.protocol == "dbp":
                    accuser, accused = int(victims[0]), int(victims[1])
                    payload = accusation_payload(self.nonces[e], accuser, accused)
                    tag = keys.sign(int(b), payload) if keys is not None else b""
                    if keys is not None and not keys.verify(accuser, payload, tag):
                        self.forgeries_dropped[e] += 1
                    else:
                        self._flood(e, accuser, accused, origin=int(b))
        if spoofed.any():
            self._spoofed, self._spoof_value = spoofed, value[:, :, None, :]

    def _replay(self, env_ids: np.ndarray) -> None:
        """The ``"replay"`` attack: each Byzantine robot rebroadcasts, in their names, every
        cooperative neighbour's value from ``replay_lag`` rounds earlier with the genuine tag it
        heard then, and (DBP) an accusation of each cooperative neighbour ``c`` by ``c``'s first
        cooperative neighbour, genuinely signed in an earlier episode. Receivers verify tags
        against this round and episode, so with ``authenticate`` every replay is dropped;
        without, a replayed value replaces the victim's current one where it is heard and a
        replayed accusation is flooded (an accusation between two cooperative robots)."""
        cfg = self.config
        E, R, K = self.nbr.shape
        active = self._attack_active()
        slot = self.steps % cfg.replay_lag
        spoofed = np.zeros((E, R, K), dtype=bool)
        value = np.zeros((E, R, K, self.value_dim))
        for e in env_ids:
            e = int(e)
            if not active[e]:
                continue
            keys, nonce, step = self.keyrings[e], self.nonces[e], int(self.steps[e])
            old = step - cfg.replay_lag
            if old >= 0 and self._sent_log_step[slot[e], e] == old:
                old_sent = self._sent_log[slot[e], e]
                for b in np.flatnonzero(self.byzantine[e]):
                    nb = self.nbr[e, b][self.nbr_ok[e, b]]
                    for victim in nb[~self.byzantine[e, nb]].tolist():
                        if keys is not None:
                            tag = keys.sign(victim, value_payload(nonce, old, victim, old_sent[victim]))
                            if not verify_value(keys, nonce, step, victim, old_sent[victim], tag):
                                self.replays_dropped[e] += 1
                                continue
                        hit = self.nbr_ok[e, nb] & (self.nbr[e, nb] == victim)
                        spoofed[e, nb] |= hit
                        value[e, nb] = np.where(hit[..., None], old_sent[victim], value[e, nb])
            if cfg.protocol != "dbp":
                continue
            # An earlier episode's nonce (any other nonce does: the replay is refused on it).
            old_nonce = hashlib.sha256(b"earlier episode" + nonce).digest()[: len(nonce)]
            for b in np.flatnonzero(self.byzantine[e]):
                nb = self.nbr[e, b][self.nbr_ok[e, b]]
                for accused in nb[~self.byzantine[e, nb]].tolist():
                    others = self.nbr[e, accused][self.nbr_ok[e, accused]]
                    others = others[~self.byzantine[e, others]]
                    if len(others) == 0:
                        continue
                    accuser = int(others[0])
                    if keys is not None:
                        # Keys are redrawn every episode here; signing with today's key models
                        # keys that outlive episodes, so that only the nonce refuses the replay.
                        tag = keys.sign(accuser, accusation_payload(old_nonce, accuser, accused))
                        if not verify_accusation(keys, nonce, accuser, accused, tag):
                            self.replays_dropped[e] += 1
                            continue
                    self._flood(e, accuser, accused, origin=int(b))
        # Log this round's broadcasts, after reading: round ``t - replay_lag`` shares t's slot.
        self._sent_log[slot[env_ids], env_ids] = self.sent[env_ids]
        self._sent_log_step[slot[env_ids], env_ids] = self.steps[env_ids]
        if spoofed.any():
            self._spoofed, self._spoof_value = spoofed, value

    def _draw_sybils(self, e: int, byz_ids: np.ndarray) -> None:
        """Copy ``e``'s Sybil identities (``sybil``, ``sybil_owner``): the last ``sybil_ids``
        Byzantine identities are claimed by the others, round-robin."""
        cfg = self.config
        self.sybil[e] = False
        self.sybil_owner[e] = -1
        if cfg.sybil_ids:
            physical, fake = byz_ids[: -cfg.sybil_ids], byz_ids[-cfg.sybil_ids :]
            self.sybil[e, fake] = True
            self.sybil_owner[e, fake] = physical[np.arange(len(fake)) % len(physical)]

    def _jammers(self) -> np.ndarray:
        """``(E, R)``: the relays that drop or hold back every accusation they relay this round
        (``"jam"``: the scripted Byzantine robots, while the attack is active)."""
        cfg = self.config
        jam = cfg.attack == "jam" and not cfg.byzantine_agents
        return self.byzantine & (jam & self._attack_active())[:, None]
