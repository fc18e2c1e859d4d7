"""What each simulated robot executes in the Byzantine case studies: its first-hand evidence,
DBP's local checks (evidence claims, values, echoes of equivocation) and accusations, and the
filter of the protocol (LCP, W-MSR or DBP) with the consensus step built from what it keeps."""

from __future__ import annotations

import numpy as np

from swarmzoo.envs.core.byzantine.wmsr import trimmed_mean, wmsr_keep


class ProtocolMixin:
    """The robots' side of :class:`~swarmzoo.envs.core.byzantine.task.ByzantineTask` (mixed in).
    Case studies may refine ``_residuals``, ``_evidence_residuals``, ``_wmsr_inputs`` and
    ``_consensus_step``."""

    def _update_evidence(self, env_ids: np.ndarray) -> None:
        """A robot that senses first-hand this round holds new evidence: its measurement,
        within the sensing bound of the truth."""
        fresh = np.zeros(self.n_envs, dtype=bool)
        fresh[env_ids] = True
        now = self.checker & fresh[:, None]
        self.ev_center = np.where(now[..., None], self.sensed, self.ev_center)
        self.ev_radius = np.where(now, self.sensing_bound(), self.ev_radius)

    def _residuals(self) -> np.ndarray:
        """``check="value"``: how far each received message ``(E, R, K)`` is from what its
        receiver senses (only read where the receiver is a checker): the largest coordinate
        difference."""
        return np.abs(self._nbr_values() - self.sensed[:, :, None, :]).max(axis=-1)

    def _evidence_residuals(self) -> np.ndarray:
        """``check="evidence"``: by how much each received claim ``(E, R, K)`` misses what its
        receiver senses (only read where the receiver is a checker): the distance from the
        measurement to the claimed value, less the claim radius and the sensing bound. Positive
        only if the sender's claim is false: ``|v - truth| <= claim`` fails."""
        dist = np.linalg.norm(self._nbr_values() - self.sensed[:, :, None, :], axis=-1)
        return dist - self._nbr_claims() - self.sensing_bound()

    def _check_residuals(self) -> np.ndarray:
        if self.config.check == "evidence":
            return self._evidence_residuals()
        return self._residuals()

    def _echo_pairs(self, e: int) -> list[tuple[int, int]]:
        """DBP's echo check: robots relay, in their next packet, the values they received (one
        signed value per sender and round). A cooperative robot that hears a common neighbour
        relay a value of sender ``b`` other than the one ``b`` sent it holds two conflicting
        values signed by ``b`` for one round -- proof, not suspicion -- and accuses ``b``.
        Honest senders send one value to everyone, so only equivocating senders can be caught
        (the check runs only on them; the outcome is the same)."""
        if self._equivocal is None or not self.config.authenticate:
            return []
        pairs = []
        nbr, heard, coop = self.nbr[e], self.heard[e], ~self.byzantine[e] & self.online[e]
        for b in np.flatnonzero(self.byzantine[e] & self.online[e]):
            # Receivers of b's packet, and which of b's two values each got (1 lie, 2 honest).
            got = np.zeros(self.n_robots, dtype=np.int8)
            rows, slots = np.nonzero((nbr == b) & heard)
            rows_coop = coop[rows]
            rows, slots = rows[rows_coop], slots[rows_coop]
            got[rows] = np.where(self._equivocal[e, rows, slots], 1, 2)
            for r in rows:
                echoes = nbr[r][heard[r]]
                if ((got[echoes] > 0) & (got[echoes] != got[r])).any():
                    pairs.append((int(r), int(b)))
        return pairs

    def _accuse(self, env_ids: np.ndarray) -> None:
        """DBP's local checks, signed accusations, flooding and blocklists."""
        cfg = self.config
        checking = self.checker & ~self.byzantine & self.online
        bad = checking[..., None] & self.heard & (self._check_residuals() > cfg.check_tolerance)
        accusing = cfg.attack in ("false_accusation", "accusation_flood", "accuse_all")
        accusing &= not cfg.byzantine_agents
        active = self._attack_active()
        for e in env_ids:
            e = int(e)
            pairs = [(int(r), int(self.nbr[e, r, k])) for r, k in zip(*np.nonzero(bad[e]))]
            echo = self._echo_pairs(e)
            self.counters["equivocations_caught"][e] += sum(p not in self._own_accused[e] for p in echo)
            pairs += echo
            if accusing and active[e]:
                coop = np.flatnonzero(~self.byzantine[e])
                for b in np.flatnonzero(self.byzantine[e]):
                    if cfg.attack == "accusation_flood":  # every cooperative robot, twice
                        targets = np.concatenate([coop, coop])
                    else:  # every cooperative neighbour
                        nb = self.nbr[e, b][self.nbr_ok[e, b]]
                        targets = nb[~self.byzantine[e, nb]]
                    pairs += [(int(b), int(c)) for c in targets]
            for accuser, accused in pairs:
                if (accuser, accused) in self._own_accused[e]:
                    continue  # flooded before: signed once per episode, a repeat changes nothing
                if cfg.authenticate and self.sybil[e, accuser]:
                    self.counters["sybil_dropped"][e] += 1  # no key was issued to that id
                    continue
                if not self._flood(e, accuser, accused, origin=accuser):
                    continue
                self._own_accused[e].add((accuser, accused))
                self._own_mask[e, accuser] |= self.nbr[e, accuser] == accused

    def _filter(self) -> None:
        """Which messages each robot accepts, and the protocol's consensus step."""
        cfg = self.config
        E, R, K = self.nbr.shape
        d = self.value_dim
        ok = self.heard.copy()
        self.views_over_bound = np.zeros(E, dtype=np.int64)
        if cfg.protocol == "dbp":
            for e in range(E):
                if self.ledgers[e] is None:
                    continue
                if self.radio:
                    views, comp = self.floods[e].groups()
                else:
                    ledger = self.ledgers[e]
                    views = ledger.views()
                    comp = np.where(ledger.components >= 0, ledger.components, views.shape[0] - 1)
                coop = ~self.byzantine[e]
                # The blocklist most cooperative robots hold (in the ideal layer: the largest
                # cooperative component's).
                main = np.bincount(comp[coop]).argmax()
                self.blocked[e] = views[main]
                # Cooperative robots whose own view blocks more cooperative robots than Byzantine.
                over = (views & coop).sum(axis=1) > (views & ~coop).sum(axis=1)
                self.views_over_bound[e] = int(over[comp[coop]].sum())
                blocked_view = views[comp[:, None], self._nbr_safe[e]]
                ok[e] &= ~blocked_view & ~self._own_mask[e]
        if cfg.protocol == "wmsr":
            own, vals = self._wmsr_inputs()
            c = own.shape[-1]
            keep = wmsr_keep(
                own.reshape(E * R, c), vals.reshape(E * R, K, c), ok.reshape(E * R, K), cfg.f_wmsr
            ).reshape(E, R, K, c)
            self.accepted = keep.all(axis=-1) & ok
            keep = np.broadcast_to(self.accepted[..., None], (E, R, K, d)) if c != d else keep
        else:
            keep = np.broadcast_to(ok[..., None], (E, R, K, d))
            self.accepted = ok
        self.step_suggested = self._consensus_step(keep)
        self.rejected_count = (self.heard & ~self.accepted).sum(axis=-1)

    def _wmsr_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """What W-MSR trims: the robot's own value ``(E, R, c)`` and the received ones
        ``(E, R, K, c)`` (default: estimates, coordinate by coordinate)."""
        return self.estimate, self._nbr_values()

    def _consensus_step(self, keep: np.ndarray) -> np.ndarray:
        """The protocol's step ``(E, R, d)`` from the kept messages ``(E, R, K, d)``: the mean of
        the robot's estimate and the kept values, minus its estimate."""
        E, R, K, d = keep.shape
        own = self.estimate.reshape(E * R, d)
        new = trimmed_mean(own, self._nbr_values().reshape(E * R, K, d), keep.reshape(E * R, K, d))
        return new.reshape(E, R, d) - self.estimate
