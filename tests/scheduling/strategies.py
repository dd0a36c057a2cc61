"""Random scheduler instances for property tests, shared by the engine's and the MaxSAT prover's tests."""

from __future__ import annotations

from hypothesis import strategies as st

from app.scheduling.engine import Instance, Meeting, Participant, Slot, greedy


@st.composite
def instances(draw: st.DrawFn, max_meetings: int = 14, max_slots: int = 6) -> Instance:
    n_slots = draw(st.integers(2, max_slots))
    morning = draw(st.integers(1, n_slots))
    tables = draw(st.integers(1, 3))
    n_participants = draw(st.integers(2, 7))
    participants = []
    for p in range(n_participants):
        forbidden = draw(st.frozensets(st.integers(0, n_slots - 1), max_size=n_slots // 2))
        cap = draw(st.none() | st.integers(1, n_slots))
        booth = f"B{p}" if draw(st.integers(0, 5)) == 0 else None
        participants.append(Participant(id=p, forbidden=forbidden, max_meetings=cap, booth=booth))
    pairs = [(a, b) for a in range(n_participants) for b in range(a + 1, n_participants)]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=max_meetings)) if pairs else []
    meetings = []
    for number, (a, b) in enumerate(chosen):
        meetings.append(
            Meeting(
                id=number,
                a=a,
                b=b,
                priority=draw(st.integers(1, 5)),
                session=draw(st.sampled_from([None, None, 1, 2])),
            )
        )
    slots = [Slot(session=1 if s < morning else 2, tables=tables) for s in range(n_slots)]
    instance = Instance(slots=slots, participants=participants, meetings=meetings)
    # lock a few meetings where a first schedule put them, so the locks are consistent
    first = greedy(instance, first_fit=True)
    locked = [
        Meeting(m.id, m.a, m.b, m.priority, m.session, first[m.id])
        if m.id in first and draw(st.integers(0, 4)) == 0
        else m
        for m in meetings
    ]
    fairness = draw(st.none() | st.integers(0, 2))
    return Instance(slots=slots, participants=participants, meetings=locked, fairness=fairness)


def without_fairness(instance: Instance) -> Instance:
    return Instance(instance.slots, instance.participants, instance.meetings)
