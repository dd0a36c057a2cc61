"""The breaks objective as weighted MaxSAT, proven by RC2 (python-sat) on CaDiCaL.

Once the placed meetings are fixed, "fewest breaks" is the problem Bofill et al. solve with MaxSAT: per
meeting and allowed slot a Boolean `x`; per participant and slot `busy` (one of its meetings is there)
and `had` (one of its meetings was there or earlier that day); a break ends in a slot where the
participant is busy, was idle in the slot before and had a meeting earlier — each break end is a soft
clause of weight 1. The implied constraint "busy slots = the participant's meetings" is added, as the
paper advises. A core-guided MaxSAT solver refutes ever larger sets of break-free participants; on
event-size instances it proves the optimum in seconds where CP-SAT's own core search stalls.

Fairness (spread of breaks ≤ d over the participants with a placed meeting) is a hard part of the
formula, as in the paper: an integer m in unary (`low_k` ⇔ m ≥ k) and, per participant, a totalizer
over its break ends in each direction, so that m ≤ breaks ≤ m + d. With fairness the break ends and
`had` are exact (both directions), or the solver could invent breaks to lift a participant to m. When
some participant can have no break (one placed meeting), m is 0 and the bound is a plain "at most d".

RC2's work is bounded by a number of SAT propagations, not by the clock, so the same formula gives the
same answer (or the same "not proven") on any machine load; the clock only caps it as a safety net.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from pysat.card import CardEnc, EncType, ITotalizer
from pysat.examples.rc2 import RC2
from pysat.formula import WCNF, IDPool

if TYPE_CHECKING:
    from app.scheduling.engine import _Prepared


def prover_context() -> multiprocessing.context.ForkServerContext:
    """Processes for proofs come from a fork server: never a fork of a process that runs threads, and,
    unlike "spawn", the server's main module and pysat are imported once by the server, not again by
    every proof — under a web server that import took longer than the whole time limit."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])
    return context


def warm_up() -> None:
    """Start the fork server now, so that the first schedule computed does not pay for it."""
    prover_context()
    from multiprocessing import forkserver

    forkserver.ensure_running()


SAT_SOLVER = "cd19"  # CaDiCaL 1.9.5: proves the hardest generated events that Glucose leaves open


class _OutOfWork(Exception):
    """The proof used up its budget of propagations."""


PROPAGATIONS_PER_CONFLICT = 1_000  # at least: sizes a chunk of conflicts to the propagations left


class _ReportingRC2(RC2):  # type: ignore[misc]  # python-sat ships no type hints: RC2 is Any
    """RC2 that reports each raised lower bound and stops after `propagations` SAT propagations (None: no
    limit) — a budget that does not depend on the machine's load. Propagations, not conflicts: their cost
    varies far less from one formula to the next (measured 2.5–4.6 million per CPU second on real-shaped
    events, where a conflict cost 0.1–1.2 ms). CaDiCaL can only be limited by conflicts, so each main
    call runs in chunks: as many conflicts as the propagations left buy at the rate seen so far (each new
    call costs CaDiCaL a restart, so as few chunks as that)."""

    def __init__(self, formula: WCNF, on_bound: Callable[[int], None], propagations: int | None):
        super().__init__(formula, solver=SAT_SOLVER, adapt=True, exhaust=True, minz=True, trim=5)
        self._on_bound = on_bound
        self._propagations = propagations

    def _call_oracle(self, assumptions: list[int] | None = None, expect_interrupt: bool = False) -> bool | None:
        if self._propagations is None:
            return bool(self.oracle.solve(assumptions=assumptions or []))
        while True:
            stats = self.oracle.accum_stats()
            left = self._propagations - stats.get("propagations", 0)
            if left <= 0:
                raise _OutOfWork
            rate = max(PROPAGATIONS_PER_CONFLICT, stats.get("propagations", 0) // max(1, stats.get("conflicts", 0)))
            self.oracle.conf_budget(max(1, left // rate))
            result = self.oracle.solve_limited(assumptions=assumptions or [])
            if result is not None:
                return bool(result)

    def process_core(self) -> None:
        super().process_core()
        self._on_bound(self.cost)


class BreaksMaxSat:
    """The breaks stage of one instance, with the placed set fixed (and, when re-scheduling, at most
    `moved_at_most` meetings away from their previous slot), within the instance's fairness bound
    when it has one (unless `fairness` is False). `hint` (meeting index → slot) sets the SAT solver's
    first phases."""

    def __init__(
        self,
        prepared: _Prepared,
        placed: set[int],
        *,
        previous: dict[int, int] | None = None,
        moved_at_most: int | None = None,
        hint: dict[int, int] | None = None,
        fairness: bool = True,
    ):
        self.prepared = prepared
        self.pool = IDPool()
        self.formula = WCNF()
        self.x: dict[tuple[int, int], int] = {}
        self.fairness = prepared.instance.fairness if fairness else None
        self._ends: dict[object, list[int]] = {}
        self._encode(placed, previous or {}, moved_at_most)
        if self.fairness is not None:
            self._encode_fairness(self.fairness)
        self.phases = (
            [var if hint.get(index) == slot else -var for (index, slot), var in self.x.items()] if hint else []
        )

    def _atmost(self, literals: list[int], bound: int) -> None:
        if len(literals) <= bound:
            return
        encoding = EncType.pairwise if bound == 1 and len(literals) <= 5 else EncType.seqcounter
        self.formula.extend(CardEnc.atmost(literals, bound, vpool=self.pool, encoding=encoding).clauses)

    def _encode(self, placed: set[int], previous: dict[int, int], moved_at_most: int | None) -> None:
        prepared, pool, formula = self.prepared, self.pool, self.formula
        instance = prepared.instance
        by_slot: dict[int, list[int]] = defaultdict(list)
        for index in sorted(placed):
            literals = []
            for slot in prepared.allowed[index]:
                self.x[index, slot] = pool.id(("x", index, slot))
                literals.append(self.x[index, slot])
                if prepared.shared[index]:
                    by_slot[slot].append(self.x[index, slot])
            formula.append(literals)  # placed somewhere …
            self._atmost(literals, 1)  # … once
        for slot, literals in by_slot.items():
            self._atmost(literals, instance.slots[slot].tables)
        if moved_at_most is not None:
            kept = [self.x[i, s] for i, s in previous.items() if (i, s) in self.x]
            away = sum(1 for i, s in previous.items() if (i, s) not in self.x)  # cannot stay: moved anyway
            self._atmost([-literal for literal in kept], max(0, moved_at_most - away))
        days: dict[int, list[int]] = defaultdict(list)
        for number, slot_info in enumerate(instance.slots):
            days[slot_info.day].append(number)
        for pid, indices in prepared.meetings_of.items():
            mine = [i for i in indices if i in placed]
            busy: dict[int, int] = {}
            for slot in range(len(instance.slots)):
                literals = [self.x[i, slot] for i in mine if (i, slot) in self.x]
                if not literals:
                    continue
                self._atmost(literals, 1)  # nobody is double-booked
                busy[slot] = pool.id(("busy", pid, slot))
                formula.extend([[-literal, busy[slot]] for literal in literals])
                formula.append([-busy[slot], *literals])
            if not busy:
                continue
            # implied: as many busy slots as meetings
            formula.extend(
                CardEnc.equals(list(busy.values()), len(mine), vpool=pool, encoding=EncType.seqcounter).clauses
            )
            exact = self.fairness is not None  # a lower bound on breaks needs ends that are not invented
            ends = self._ends.setdefault(pid, [])
            for day_slots in days.values():
                had_before: int | None = None
                for slot in day_slots:
                    if slot in busy and had_before is not None:
                        end = pool.id(("end", pid, slot))
                        idle_before = [busy[slot - 1]] if slot - 1 in busy else []
                        formula.append([-busy[slot], -had_before, *idle_before, end])
                        formula.append([-end], weight=1)
                        ends.append(end)
                        if exact:
                            formula.append([-end, busy[slot]])
                            formula.append([-end, had_before])
                            if idle_before:
                                formula.append([-end, -busy[slot - 1]])
                    had = pool.id(("had", pid, slot))
                    if slot in busy:
                        formula.append([-busy[slot], had])
                    if had_before is not None:
                        formula.append([-had_before, had])
                    if exact:  # had ⇒ busy now or had before
                        now = [busy[slot]] if slot in busy else []
                        formula.append([-had, *now, *([had_before] if had_before is not None else [])])
                    had_before = had

    def _totalizer(self, literals: list[int]) -> list[int]:
        """Outputs o[j] with "at least j + 1 of the literals true ⇒ o[j]" (so ¬o[j] caps the sum at j)."""
        tot = ITotalizer(lits=literals, ubound=len(literals), top_id=self.pool.top)
        self.pool.top = max(self.pool.top, tot.top_id)
        self.formula.extend(tot.cnf.clauses)
        return list(tot.rhs)

    def _encode_fairness(self, d: int) -> None:
        """m ≤ breaks(p) ≤ m + d for every participant with a placed meeting, m chosen by the solver."""
        counted = list(self._ends.values())
        if not counted:
            return
        top = min(len(ends) for ends in counted)  # the largest m possible: nobody has more ends than that
        low = [self.pool.id(("low", k)) for k in range(1, top + 1)]  # low[k - 1] ⇔ m ≥ k
        for stronger, weaker in itertools.pairwise(low):
            self.formula.append([-weaker, stronger])
        for ends in counted:
            n = len(ends)
            if n > d:  # else at most d breaks anyway
                upper = self._totalizer(ends)
                for k in range(top + 1):  # m ≤ k ⇒ breaks ≤ k + d
                    if k + d < n:
                        self.formula.append(([low[k]] if k < top else []) + [-upper[k + d]])
            if top:
                lower = self._totalizer([-end for end in ends])  # idle ends: breaks ≥ k ⇔ idle ≤ n − k
                for k in range(1, top + 1):
                    self.formula.append([-low[k - 1], -lower[n - k]])

    def run(
        self,
        seconds: float,
        stop: threading.Event,
        on_bound: Callable[[int], None],
        propagations: int | None = None,
    ) -> Proof:
        """Solve until proven, `propagations` SAT propagations are spent, `seconds` pass or `stop` is set. RC2
        runs in a process of its own: CaDiCaL cannot be interrupted, a process can be stopped, and the
        proof holds no lock the local search in this process needs."""
        deadline = time.monotonic() + seconds
        context = prover_context()
        receiver, sender = context.Pipe(duplex=False)
        inbox, outbox = context.Pipe(duplex=False)
        process = context.Process(target=_prove, args=(inbox, sender), daemon=True)
        process.start()
        sender.close()
        inbox.close()
        # The formula goes over a pipe from a thread: the write waits until the new process reads it, which on
        # a loaded machine can take seconds — the time limit keeps counting here, not blocked behind it.
        feeder = threading.Thread(target=_feed, args=(outbox, (self.formula, self.phases, propagations)), daemon=True)
        feeder.start()
        bound = 0
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                if not receiver.poll(0.05):
                    continue
                try:
                    message = receiver.recv()
                except EOFError:  # the process died without an answer
                    return Proof(bound, None, False)
                if message[0] == "bound":
                    bound = max(bound, message[1])
                    on_bound(bound)
                    continue
                if message[0] == "exhausted":
                    return Proof(bound, None, False)
                if message[0] == "infeasible":
                    return Proof(bound, None, True)
                true = set(message[2])
                solution = {index: slot for (index, slot), var in self.x.items() if var in true}
                return Proof(max(bound, message[1]), solution, False)
            return Proof(bound, None, False)
        finally:
            if process.is_alive():
                process.kill()
            process.join()
            feeder.join()
            receiver.close()


@dataclass(frozen=True)
class Proof:
    """What a run established: a lower bound on breaks, the optimal schedule when proven (meeting index →
    slot), or that no schedule meets the hard constraints (with fairness: the bound cannot hold)."""

    bound: int
    solution: dict[int, int] | None
    infeasible: bool


def _feed(outbox: Connection, work: tuple[WCNF, list[int], int | None]) -> None:
    """Send the proving process its work; it may be stopped before it reads it all."""
    try:
        outbox.send(work)
    except OSError:  # BrokenPipeError: stopped at the time limit
        pass
    finally:
        outbox.close()


def _prove(inbox: Connection, sender: Connection) -> None:
    """The proving process: each raised bound, then the optimum with its true literals (or why none)."""
    try:
        formula, phases, propagations = inbox.recv()
    except EOFError:
        return
    inbox.close()
    with _ReportingRC2(formula, lambda cost: sender.send(("bound", cost)), propagations) as solver:
        if phases:
            solver.oracle.set_phases(phases)
        try:
            model = solver.compute()
        except _OutOfWork:
            sender.send(("exhausted",))
        else:
            if model is None:
                sender.send(("infeasible",))
            else:
                sender.send(("optimum", solver.cost, [literal for literal in model if literal > 0]))
    sender.close()
