"""The breaks objective as weighted MaxSAT, proven by RC2 (python-sat) on CaDiCaL.

Once the placed meetings are fixed, "fewest breaks" is the problem Bofill et al. solve with MaxSAT: per
meeting and allowed slot a Boolean `x`; per participant and slot `busy` (one of its meetings is there)
and `had` (one of its meetings was there or earlier that day); a break ends in a slot where the
participant is busy, was idle in the slot before and had a meeting earlier — each break end is a soft
clause of weight 1. The implied constraint "busy slots = the participant's meetings" is added, as the
paper advises. A core-guided MaxSAT solver refutes ever larger sets of break-free participants; on
event-size instances it proves the optimum in seconds where CP-SAT's own core search stalls, so the
breaks stage races it against the local search.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from pysat.card import CardEnc, EncType
from pysat.examples.rc2 import RC2
from pysat.formula import WCNF, IDPool

if TYPE_CHECKING:
    from app.scheduling.engine import _Prepared

SAT_SOLVER = "cd19"  # CaDiCaL 1.9.5: proves the hardest generated events that Glucose leaves open


class _ReportingRC2(RC2):  # type: ignore[misc]  # python-sat ships no type hints: RC2 is Any
    """RC2 that reports each raised lower bound, so a race can stop once a schedule reaches it."""

    def __init__(self, formula: WCNF, on_bound: Callable[[int], None]):
        super().__init__(formula, solver=SAT_SOLVER, adapt=True, exhaust=True, minz=True, trim=5)
        self._on_bound = on_bound

    def process_core(self) -> None:
        super().process_core()
        self._on_bound(self.cost)


class BreaksMaxSat:
    """The breaks stage of one instance, with the placed set fixed (and, when re-scheduling, at most
    `moved_at_most` meetings away from their previous slot)."""

    def __init__(
        self,
        prepared: _Prepared,
        placed: set[int],
        *,
        previous: dict[int, int] | None = None,
        moved_at_most: int | None = None,
    ):
        self.prepared = prepared
        self.pool = IDPool()
        self.formula = WCNF()
        self.x: dict[tuple[int, int], int] = {}
        self._encode(placed, previous or {}, moved_at_most)

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
            for day_slots in days.values():
                had_before: int | None = None
                for slot in day_slots:
                    if slot in busy and had_before is not None:
                        end = pool.id(("end", pid, slot))
                        idle_before = [busy[slot - 1]] if slot - 1 in busy else []
                        formula.append([-busy[slot], -had_before, *idle_before, end])
                        formula.append([-end], weight=1)
                    had = pool.id(("had", pid, slot))
                    if slot in busy:
                        formula.append([-busy[slot], had])
                    if had_before is not None:
                        formula.append([-had_before, had])
                    had_before = had

    def run(
        self, seconds: float, stop: threading.Event, on_bound: Callable[[int], None]
    ) -> tuple[int, dict[int, int] | None]:
        """Solve until proven, `seconds` pass or `stop` is set: (the lower bound reached, the optimal
        schedule or None). RC2 runs in a process of its own: CaDiCaL cannot be interrupted, a process
        can be stopped, and the proof holds no lock the local search in this process needs."""
        context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_prove, args=(self.formula, sender), daemon=True)
        process.start()
        sender.close()
        deadline = time.monotonic() + seconds
        bound = 0
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                if not receiver.poll(0.05):
                    continue
                try:
                    message = receiver.recv()
                except EOFError:  # the process died without an answer
                    return bound, None
                if message[0] == "bound":
                    bound = max(bound, message[1])
                    on_bound(bound)
                    continue
                true = set(message[2])
                return max(bound, message[1]), {index: slot for (index, slot), var in self.x.items() if var in true}
            return bound, None
        finally:
            if process.is_alive():
                process.kill()
            process.join()
            receiver.close()


def _prove(formula: WCNF, sender: Connection) -> None:
    """The proving process: each raised bound, then the optimum with its true literals."""
    with _ReportingRC2(formula, lambda cost: sender.send(("bound", cost))) as solver:
        model = solver.compute()
        sender.send(("optimum", solver.cost, [literal for literal in model or () if literal > 0]))
    sender.close()
