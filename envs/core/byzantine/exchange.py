"""One round's message traffic in a Byzantine case study: what is broadcast and arrives
(delays, losses, drop-outs), who hears whom, and how verified accusations spread (the ideal
layer's ledger, :mod:`~swarmzoo.envs.core.byzantine.messages`, or the radio network,
:mod:`~swarmzoo.envs.core.byzantine.network`)."""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.core.byzantine.network import loss_probability


class ExchangeMixin:
    """The message layer of :class:`~swarmzoo.envs.core.byzantine.task.ByzantineTask` (mixed
    in): steps 3-6 of a round, :meth:`_exchange`, and the channels it uses."""

    def _exchange(self, env_ids: np.ndarray) -> None:
        """Broadcast, verify, check, accuse, flood, block and filter (steps 3-6 of a round)."""
        cfg = self.config
        self.sent = np.where(self.byzantine[..., None], self._byzantine_values(), self.estimate)
        # Every robot claims what its own evidence guarantees about its honest estimate.
        self.claim = np.linalg.norm(self.estimate - self.ev_center, axis=-1) + self.ev_radius
        if cfg.delay:
            rows = np.arange(self.n_envs)
            slot = self.steps % (cfg.delay + 1)
            self._history[slot, rows] = self.sent
            self._claim_history[slot, rows] = self.claim
        self._spoofed = None
        self._spoof_value = None
        self._equivocal = self._equivocation()
        self._listen(env_ids)
        if cfg.attack == "forge":
            self._forge(env_ids)
        elif cfg.attack == "replay":
            self._replay(env_ids)
        if cfg.protocol == "dbp":
            self._accuse(env_ids)
            if self.radio:
                self._spread(env_ids)
        self._filter()

    def _arrived(self) -> tuple[np.ndarray, np.ndarray]:
        """The broadcasts arriving this round ``(E, R, d)`` and their claims ``(E, R)``: sent
        ``delay`` rounds ago (the first round's at the start of an episode) and aged by the
        receivers through the known dynamics."""
        delay = self.config.delay
        if delay == 0:
            return self.sent, self.claim
        rows = np.arange(self.n_envs)
        age = np.minimum(self.steps, delay)
        slot = (self.steps - age) % (delay + 1)
        values = self._history[slot, rows] + (age * self.truth_rate())[:, None, None]
        claims = self._claim_history[slot, rows] + (age * self.evidence_growth())[:, None]
        return values, claims

    def _nbr_values(self) -> np.ndarray:
        """Received values ``(E, R, K, d)`` (forged ones where they got through; equivocating
        senders' lies to the receivers they lie to)."""
        sent, _ = self._arrived()
        vals = np.take_along_axis(sent[:, None, :, :], self._nbr_safe[..., None], axis=2)
        if self._spoofed is not None:
            vals = np.where(self._spoofed[..., None], self._spoof_value, vals)
        if self._equivocal is not None:
            lie = np.take_along_axis(
                (self.config.attack_magnitude * self.attack_dir)[:, None], self._nbr_safe[..., None], axis=2
            )
            vals = vals + np.where(self._equivocal[..., None], lie, 0.0)
        return vals

    def _nbr_claims(self) -> np.ndarray:
        """Received claim radii ``(E, R, K)``."""
        _, claims = self._arrived()
        return np.take_along_axis(claims[:, None, :], self._nbr_safe, axis=2)

    def _update_online(self) -> None:
        """Robots drop out and rejoin (radio network only)."""
        cfg = self.config
        if not (cfg.dropout_rate or cfg.rejoin_rate):
            return
        u = self.rng.uniform(np.arange(self.n_envs), (self.n_robots,))
        self.online = np.where(self.online, u >= cfg.dropout_rate, u < cfg.rejoin_rate)

    def _reset_link_loss(self, env_ids: np.ndarray) -> None:
        """Per-link packet loss of the copies' (static) graphs."""
        cfg = self.config
        if not (cfg.link_loss or cfg.distance_loss):
            return
        nbr_pos = np.take_along_axis(self.pos[:, None, :, :], self._nbr_safe[..., None], axis=2)
        length = np.where(self.nbr_ok, np.linalg.norm(nbr_pos - self.pos[:, :, None, :], axis=-1), 0.0)
        if self._link_loss is None or self._link_loss.shape != self.nbr.shape:
            self._link_loss = np.zeros(self.nbr.shape)
        for e in env_ids:
            self._link_loss[e] = loss_probability(
                cfg.link_loss, cfg.distance_loss, length[e], length[e].max()
            )

    def _draw_heard(self, e: int) -> np.ndarray:
        """Which neighbours' packets copy ``e``'s robots receive in one exchange ``(R, K)``."""
        heard = self.nbr_ok[e] & self.online[e][:, None] & self.online[e][self._nbr_safe[e]]
        if self._link_loss is not None:
            # Draws for the copy's own widest neighbour list (face parity, as in localization).
            width = int(self.degree[e].max(initial=0))
            u = np.ones(self.nbr.shape[1:])
            u[:, :width] = self.rng.uniform(np.array([e]), (self.n_robots, width))[0]
            lost = heard & (u < self._link_loss[e])
            self.counters["lost_messages"][e] += int(lost.sum())
            heard &= ~lost
        return heard

    def _listen(self, env_ids: np.ndarray) -> None:
        """This round's value packets: who hears whom (``heard (E, R, K)``). With
        ``authenticate``, Sybil identities' messages fail verification and are dropped."""
        cfg = self.config
        if self.heard.shape != self.nbr.shape:
            self.heard = self.nbr_ok.copy()
        for e in env_ids:
            e = int(e)
            heard = self._draw_heard(e)
            if cfg.sybil_ids and cfg.authenticate:
                fake = heard & self.sybil[e][self._nbr_safe[e]]
                self.counters["sybil_dropped"][e] += int(fake.sum())
                heard &= ~fake
            self.heard[e] = heard
            self.counters["value_messages"][e] += int(self.online[e].sum())

    def _spread(self, env_ids: np.ndarray) -> None:
        """Radio network: ``flood_hops`` packet exchanges of accusations this round (the first
        rides on the value packet; each further one is a new exchange with its own losses)."""
        cfg = self.config
        jammers = self._jammers()
        for e in env_ids:
            e = int(e)
            relays = self.online[e].copy()
            if cfg.authenticate:
                relays &= ~self.sybil[e]
            held_back = jammers[e]
            for hop in range(cfg.flood_hops):
                heard = self.heard[e] if hop == 0 else self._draw_heard(e)
                self.counters["accusation_messages"][e] += self.floods[e].spread(
                    self.nbr[e], heard, relays, held_back, int(self.steps[e]), cfg.bandwidth, cfg.jam_delay
                )

    def _flood(self, e: int, accuser: int, accused: int, origin: int) -> bool:
        """A verified accusation enters the network at ``origin`` and floods every cooperative
        component ``origin`` touches (its own, or its cooperative neighbours' if Byzantine).
        Receivers refuse it unless the accuser and the accused are neighbours (the graph is fixed
        for an episode and known): nobody can check a robot it does not hear. Returns whether it
        was accepted; refusals are counted in ``accusations_refused``."""
        if (accuser, accused) not in self._adjacent[e]:
            self.accusations_refused[e] += 1
            return False
        if self.radio:  # it enters at its origin and travels hop by hop (see _spread)
            self.floods[e].add(accuser, accused, origin, int(self.steps[e]))
            return True
        ledger = self.ledgers[e]
        if not self.byzantine[e, origin]:
            comps = {int(ledger.components[origin])}
        else:
            nb = self.nbr[e, origin][self.nbr_ok[e, origin]]
            comps = {int(c) for c in ledger.components[nb] if c >= 0}
        before = set(ledger.reach.get((accuser, accused), ()))
        if ledger.add(accuser, accused, comps):  # every member of a newly reached component relays it once
            self.counters["accusation_messages"][e] += int(
                np.isin(ledger.components, list(comps - before)).sum()
            )
        return True

    def accusation_pairs(self, e: int) -> list[tuple[int, int]]:
        """Every verified accusation of copy ``e`` so far ``(accuser, accused)``."""
        if self.radio:
            return list(self.floods[e].pairs)
        return list(self.ledgers[e].reach)
