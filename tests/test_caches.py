"""``caches.BoundedCache``: least recently used out first, within its entry and byte bounds,
counting what it does; and the caches of a running server in ``GET /__admin/health``."""

from __future__ import annotations

import pytest
from conftest import raw_request

from mock_server.caches import MISSING, SHARED, BoundedCache


def sized(max_entries: int = 10, max_bytes: int = 10) -> BoundedCache[str, int]:
    return BoundedCache("sized", max_entries, max_bytes=max_bytes)


def test_the_least_recently_used_entry_goes_first():
    cache: BoundedCache[str, int] = BoundedCache("lru", 2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert "b" not in cache
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert cache.evictions == 1


def test_putting_a_key_again_replaces_its_value_and_refreshes_it():
    cache: BoundedCache[str, int] = BoundedCache("lru", 2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert (cache.get("a"), "b" in cache, len(cache)) == (10, False, 2)


def test_the_byte_bound_evicts_as_many_as_it_takes():
    cache = sized()
    for key in "abc":
        cache.put(key, 1, 3)
    assert cache.bytes == 9
    cache.put("d", 2, 6)
    assert ("a" in cache, "b" in cache, "c" in cache, "d" in cache) == (False, False, True, True)
    assert (cache.bytes, cache.evictions) == (9, 2)
    cache.put("c", 3, 1)  # a smaller value for a key: its bytes shrink
    assert cache.bytes == 7


def test_a_value_past_the_byte_bound_alone_is_not_kept_nor_what_it_replaces():
    cache = sized()
    cache.put("a", 1, 2)
    cache.put("b", 2, 2)
    cache.put("b", 3, 11)
    assert ("a" in cache, "b" in cache, cache.bytes, cache.evictions) == (True, False, 2, 0)


def test_get_counts_hits_and_misses_and_in_does_not():
    cache: BoundedCache[str, None] = BoundedCache("counted", 4)
    cache.put("none", None)
    assert cache.get("none", MISSING) is None  # a kept None is a hit, told from a miss
    assert cache.get("other", MISSING) is MISSING
    assert "none" in cache and "other" not in cache  # a look that is not counted
    assert (cache.hits, cache.misses) == (1, 1)


def test_memoize_computes_once_per_kept_argument():
    cache: BoundedCache[int, int] = BoundedCache("squares", 2)
    calls = []

    @cache.memoize
    def square(number: int) -> int:
        """The square."""
        calls.append(number)
        return number * number

    assert [square(n) for n in (2, 2, 3, 4, 2)] == [4, 4, 9, 16, 4]
    assert calls == [2, 3, 4, 2]  # 2 was the least recently used when 4 came
    assert (cache.hits, cache.misses, cache.evictions) == (1, 4, 2)
    assert square.__doc__ == "The square."


def test_memoize_keeps_no_failure():
    cache: BoundedCache[str, int] = BoundedCache("numbers", 4)
    number = cache.memoize(int)
    with pytest.raises(ValueError):
        number("x")
    assert ("x" not in cache, number("7"), cache.misses) == (True, 7, 2)


def test_clear_forgets_the_entries_and_keeps_the_counters():
    cache = sized()
    cache.put("a", 1, 2)
    cache.get("a")
    cache.clear()
    assert (len(cache), cache.bytes, cache.hits) == (0, 0, 1)


def test_stats_show_bytes_for_a_byte_bound_only():
    registry: dict[str, BoundedCache] = {}
    counted = BoundedCache("counted", 4, registry=registry)
    sized_one = BoundedCache("sized", 4, max_bytes=8, registry=registry)
    sized_one.put("abc", 1, 3)
    assert registry == {"counted": counted, "sized": sized_one}
    assert counted.stats() == {
        "entries": 0, "max_entries": 4, "hits": 0, "misses": 0, "evictions": 0,
    }  # fmt: skip
    assert sized_one.stats() == {
        "entries": 1, "max_entries": 4, "bytes": 3, "max_bytes": 8,
        "hits": 0, "misses": 0, "evictions": 0,
    }  # fmt: skip


def test_health_shows_the_caches_and_their_hits(server, tenant):
    def caches() -> dict[str, dict[str, int]]:
        response = raw_request(server, "GET", f"/t/{tenant.name}/__admin/health")
        return response.json()["caches"]

    tenant.add(
        {"name": "hits", "match": {"last_user_message": "hit me"}, "reply": {"content": "Hit."}}
    )
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hit me"}]}
    before = caches()
    responses = [tenant.post(body) for _ in range(3)]
    after = caches()
    assert [r.status for r in responses] == [200, 200, 200]
    assert set(SHARED) | {"passed_bodies", "kept_bodies", "seen_bodies"} <= set(after)
    for name in ("passed_bodies", "kept_bodies", "seen_bodies"):
        assert after[name]["bytes"] <= after[name]["max_bytes"]
    gained = {name: after[name]["hits"] - before[name]["hits"] for name in after}
    assert gained["passed_bodies"] >= 2  # the checks passed once, remembered twice
    assert gained["seen_bodies"] >= 1  # seen again: kept from then on
    assert gained["kept_bodies"] >= 1  # the third answer is the kept body
    assert gained["fingerprints"] >= 1
    # Whether the connection shortcut answers a request on a fresh connection is a race: its
    # route cache is listed when it is on, its hits are not counted on here.
    shortcut_on = raw_request(server, "GET", "/__admin/health").json()["shortcut"]["on"]
    assert ("routes" in after) == shortcut_on


def test_a_body_whose_key_holds_long_stop_sequences_is_not_kept(server, tenant):
    """Stop sequences are part of a kept body's key, and count against what a key may hold."""

    def kept() -> int:
        response = raw_request(server, "GET", f"/t/{tenant.name}/__admin/health")
        return response.json()["caches"]["kept_bodies"]["hits"]

    tenant.add({"name": "fixed", "reply": {"content": "Fixed."}})
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    for stop, kept_after in ((["x" * 5000, "y" * 5000], False), (["zz"], True)):
        before = kept()
        assert [tenant.post({**body, "stop": stop}).status for _ in range(3)] == [200] * 3
        assert (kept() > before) is kept_after
