"""The operations of a tenant's state (``server.tenant_state``), each one call: a sequence's
step taken and advanced, rate-limit windows checked and counted, the keyed store's bounds."""

from __future__ import annotations

from mock_server.accounts.account import Account
from mock_server.config import KeySpec, Limits
from mock_server.engine.choosing import ScenarioState
from mock_server.server.budget import SharedBudget
from mock_server.server.tenant_state import KeyedStore
from mock_server.server.tenants import Tenant, Tenants


def test_a_sequence_advances_only_when_a_step_is_taken():
    state = ScenarioState()
    steps = ["first", "second"]

    def reply_at(step: int) -> str | None:
        return steps[step] if step < len(steps) else None

    assert state.take("s", reply_at) == (0, "first")
    assert state.take("s", reply_at) == (1, "second")
    assert state.take("s", reply_at) is None
    assert state.served == {"s": 2}  # an exhausted sequence stays where it ended


def test_windows_count_a_request_only_when_every_window_has_room():
    account = Account.open(KeySpec("k"), Limits(requests_per_minute=2, tokens_per_minute=100))
    assert account.take({"requests": 1, "tokens": 60}, now=0.0) is None
    assert account.take({"requests": 1, "tokens": 60}, now=1.0) == "tokens"
    assert account.windows["requests"].used == 1  # nothing counted for the refused request
    assert account.take({"requests": 1, "tokens": 40}, now=2.0) is None
    assert account.take({"requests": 1, "tokens": 0}, now=3.0) == "requests"
    assert account.take({"requests": 1, "tokens": 0}, now=61.0) is None  # a new window


def test_the_keyed_store_drops_the_oldest_past_its_bounds():
    store = KeyedStore(max_entries=3, max_bytes=100)
    for key in "abcd":
        store.put(key, key.upper(), 10)
    assert list(store) == ["b", "c", "d"] and store.bytes == 30
    store.put("b", "B again", 10)  # stored again: the newest
    store.put("big", "x", 85)
    assert list(store) == ["b", "big"] and store.bytes == 95
    store.put("huge", "x", 101)  # larger than the whole store: not kept, nothing dropped
    assert store.get("huge") is None and list(store) == ["b", "big"]
    assert store.delete("b") and not store.delete("b")
    store.clear()
    assert len(store) == 0 and store.bytes == 0


def test_the_stores_of_all_tenants_share_one_budget():
    budget = SharedBudget(limit=1000)
    big, small = KeyedStore(budget=budget), KeyedStore(budget=budget)
    for index in range(8):
        big.put(index, "big", 100)
    small.put("s", "small", 100)
    big.put(8, "big", 100)
    assert budget.used == 1000  # at the limit: nothing dropped
    big.put(9, "big", 100)  # 1,100 > 1,000: trimmed to 900, from the largest store, oldest first
    assert budget.used == 900 == big.bytes + small.bytes
    assert list(big) == [2, 3, 4, 5, 6, 7, 8, 9] and list(small) == ["s"]
    big.delete(9)
    small.clear()
    assert budget.used == big.bytes == 700


def test_what_a_store_has_just_stored_stays_when_the_budget_trims():
    budget = SharedBudget(limit=1000)
    small, big = KeyedStore(budget=budget), KeyedStore(budget=budget)
    small.put("s", "small", 100)
    big.put("new", "the answer being sent", 950)  # the largest store, and the one storing
    assert big.get("new") is not None and len(small) == 0
    assert budget.used == 950 == big.bytes


def test_a_forgotten_tenant_gives_back_what_it_held_and_counts_no_more():
    tenants = Tenants(max_tenants=2)
    forgotten = tenants.get("a")
    forgotten.store.put("r", "response", 500)
    forgotten.journal.append(("entry",), 300)
    assert (tenants.store_budget.used, tenants.journal_budget.used) == (500, 300)
    tenants.get("b")
    tenants.get("c")  # "a", the least recently used, is forgotten
    assert (tenants.store_budget.used, tenants.journal_budget.used) == (0, 0)
    forgotten.store.put("late", "a request under way when it was forgotten", 700)
    forgotten.journal.append(("late",), 300)
    assert (tenants.store_budget.used, tenants.journal_budget.used) == (0, 0)


def test_forgetting_a_tenant_costs_the_same_however_many_are_configured(monkeypatch):
    """Configured tenants are never forgotten and are kept apart: a new tenant forgets the
    least recently used of the others at once, without walking past the configured ones."""
    tenants = Tenants(max_tenants=1_000)
    for index in range(999):
        configured = tenants.get(f"configured-{index}")
        assert tenants.may_configure(configured)
        tenants.hold(configured)
        configured.strict = True
    checked = []  # the tenants whose configuration forgetting looks at
    real_held = Tenant.held
    counted = property(lambda tenant: checked.append(tenant.name) or real_held.fget(tenant))
    monkeypatch.setattr(Tenant, "held", counted)
    for index in range(100):  # each new one forgets the one before it
        tenants.get(f"passing-{index}")
    monkeypatch.undo()
    assert checked == [] and len(tenants) == 1_000
    last = tenants.get("passing-99")
    assert tenants.may_configure(last)  # 999 configured: room for one more
    tenants.hold(last)
    last.strict = True
    assert not tenants.may_configure(tenants.get("late"))
    tenants.get("configured-0").reset()  # forgettable again: room for one more
    assert tenants.may_configure(tenants.get("late"))


def test_a_configured_tenant_stays_until_it_is_reset():
    tenants = Tenants(max_tenants=3)
    kept = tenants.get("kept")
    tenants.hold(kept)
    kept.strict = True
    for index in range(100):
        tenants.get(f"passing-{index}")
    assert tenants.get("kept") is kept and len(tenants) == 3
    kept.reset()
    tenants.get("kept")  # no longer configured: forgotten in its turn
    for index in range(100):
        tenants.get(f"later-{index}")
    assert tenants.get("kept") is not kept
