"""Step 2 of the planner (orepit.planning.sequencing): blocks placed in time from the cut model's
mined shares, in two orders (expected period; slope cones pulled forward), the placement worth
more kept; precedence and capacity kept exactly."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from solvers.problem import Precedence

from orepit.planning import sequencing
from orepit.planning.sequencing import block_periods, discounted_value, pulled_keys

RATE = 0.08


def test_pulled_keys_put_no_block_after_a_block_worth_mining_that_needs_it():
    # (node, predecessor): 1 and 2 need 0; 3 needs 2; 4 needs 3; 5 is outside the pit
    precedence = Precedence.from_arcs(6, np.array([1, 2, 3, 4]), np.array([0, 0, 2, 3]))
    key = np.array([3.0, 0.2, 2.0, 1.0, 0.5, 0.1])
    inside = np.array([True, True, True, True, True, False])
    pulls = np.array([True, False, True, False, True, True])
    # 4 (worth mining, 0.5) pulls 3 and, through 3 (waste), 2 and 0; 1 (waste, 0.2) pulls nothing;
    # 5 is outside
    assert pulled_keys(precedence, key, inside, pulls).tolist() == [0.5, 0.2, 0.5, 0.5, 0.5, 0.1]
    # with every block pulling, waste block 1 pulls 0 to its own 0.2
    assert pulled_keys(precedence, key, inside, np.ones(6, bool)).tolist() == [0.2, 0.2, 0.5, 0.5, 0.5, 0.1]
    # nobody pulls: the keys stay
    assert pulled_keys(precedence, key, inside, np.zeros(6, bool)).tolist() == key.tolist()


def _case(arcs, first_share, capacity, value):
    """Blocks of one tonne, each its own cut; cut b's mined share by period: first_share[b] rising
    to 1 (its expected period follows); ``arcs``: (block, predecessor)."""
    n = len(value)
    precedence = Precedence.from_arcs(n, np.array([a for a, _ in arcs]), np.array([p for _, p in arcs]))
    deposit = SimpleNamespace(n_blocks=n, tonnage=np.ones(n), precedence=precedence)
    layout = SimpleNamespace(block_cut=np.arange(n), block_position=np.zeros(n), integer=False)
    mined_by = np.array([[s, max(s, 0.5), 1.0, 1.0] for s in first_share])
    return deposit, layout, np.ones(n, bool), mined_by, np.full(4, float(capacity)), np.asarray(value, float)


# ore block 0 needs three waste blocks 1-3 the model mines late; ore block 4 needs nothing: pulled,
# the waste takes period 0 and block 4 waits until period 2 (measured: expected order worth more)
WAITS = _case([(0, 1), (0, 2), (0, 3)], [1.0, 0.0, 0.0, 0.0, 0.9], 2, [10, -1, -1, -1, 10])
# ore block 0 needs waste block 1 the model mines late; waste block 2 is planned early: pulled, block
# 1 and then 0 go first (measured: pulled order worth more)
PAYS = _case([(0, 1)], [1.0, 0.0, 0.6], 1, [10, -1, -1])


@pytest.mark.parametrize("case, kept", [(WAITS, "expected"), (PAYS, "pulled")])
def test_the_placement_kept_is_the_order_worth_more(case, kept, monkeypatch):
    deposit, layout, pit, mined_by, capacity, value = case
    alone = {}
    for order in sequencing.ORDERS:
        monkeypatch.setattr(sequencing, "ORDERS", (order,))
        alone[order] = block_periods(deposit, layout, pit, mined_by, capacity, value, RATE)[0]
    monkeypatch.undo()
    period, order = block_periods(deposit, layout, pit, mined_by, capacity, value, RATE)
    worth = {o: discounted_value(p, value, RATE) for o, p in alone.items()}
    assert order == kept and worth[kept] > max(worth.values()) - 1e-9
    assert worth[kept] > min(worth.values()) + 0.1                  # the case binds: the orders differ
    assert np.array_equal(period, alone[kept])
    # every block placed, after its predecessors, within the capacity
    assert (period >= 0).all()
    child, parent = deposit.precedence.arcs()
    assert (period[child] >= period[parent]).all()
    assert np.bincount(period, minlength=4).max() <= capacity[0]


def test_discounted_value_counts_placed_blocks_only():
    period = np.array([0, 1, -1])
    assert discounted_value(period, np.array([1.0, 1.08, 5.0]), RATE) == pytest.approx(2.0)
