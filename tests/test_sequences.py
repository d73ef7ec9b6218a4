"""Sequences advance per tenant and per scenario, atomically, with three exhaustion modes."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from conftest import API_KEY

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "next"}]}


def steps(n: int) -> list[dict]:
    return [{"content": f"step {i}"} for i in range(1, n + 1)]


def contents(tenant, count: int) -> list[str]:
    return [tenant.post(BODY).json()["choices"][0]["message"]["content"] for _ in range(count)]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("repeat_last", ["step 1", "step 2", "step 2", "step 2"]),
        ("cycle", ["step 1", "step 2", "step 1", "step 2"]),
        (
            "no_match",
            [
                "step 1",
                "step 2",
                "This is a mock response to: next",
                "This is a mock response to: next",
            ],
        ),
    ],
)
def test_on_exhausted(tenant, mode, expected):
    tenant.add({"name": "seq", "sequence": steps(2), "on_exhausted": mode})
    assert contents(tenant, 4) == expected


def test_exhausted_no_match_falls_through_to_the_next_scenario(tenant):
    tenant.add(
        [
            {
                "name": "once",
                "priority": 1,
                "sequence": [{"content": "first time"}],
                "on_exhausted": "no_match",
            },
            {"name": "after", "reply": {"content": "every other time"}},
        ]
    )
    assert contents(tenant, 3) == ["first time", "every other time", "every other time"]


def test_sequences_are_per_tenant(server, tenant):
    from conftest import TenantHandle

    other = TenantHandle(server, tenant.name + "-other")
    for handle in (tenant, other):
        handle.add({"name": "seq", "sequence": steps(3)})
    assert contents(tenant, 2) == ["step 1", "step 2"]
    assert contents(other, 1) == ["step 1"]
    assert contents(tenant, 1) == ["step 3"]


def test_sequences_are_per_scenario(tenant):
    tenant.add(
        [
            {"name": "a", "match": {"last_user_message": {"equals": "a"}}, "sequence": steps(2)},
            {"name": "b", "match": {"last_user_message": {"equals": "b"}}, "sequence": steps(2)},
        ]
    )

    def say(text):
        body = {**BODY, "messages": [{"role": "user", "content": text}]}
        return tenant.post(body).json()["choices"][0]["message"]["content"]

    assert [say("a"), say("b"), say("a"), say("b")] == ["step 1", "step 1", "step 2", "step 2"]


def test_reset_starts_sequences_again(tenant):
    tenant.add({"name": "seq", "sequence": steps(2)})
    assert contents(tenant, 2) == ["step 1", "step 2"]
    assert tenant.admin("POST", "/scenarios/reset").status == 200
    assert contents(tenant, 1) == ["step 1"]


def test_served_counts_are_listed(tenant):
    tenant.add({"name": "seq", "sequence": steps(3)})
    contents(tenant, 2)
    listed = {s["name"]: s for s in tenant.admin("GET", "/scenarios").json()["scenarios"]}
    assert (listed["seq"]["served"], listed["seq"]["steps"], listed["seq"]["origin"]) == (
        2,
        3,
        "added",
    )


def test_two_hundred_concurrent_requests_get_each_step_exactly_once(tenant):
    tenant.add({"name": "seq", "sequence": steps(200), "on_exhausted": "no_match"})
    url = tenant.url() + "/chat/completions"

    async def fire() -> list[str]:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

            async def one() -> str:
                async with session.post(url, json=BODY) as response:
                    assert response.status == 200
                    return (await response.json())["choices"][0]["message"]["content"]

            return await asyncio.gather(*(one() for _ in range(200)))

    answers = asyncio.run(fire())
    assert sorted(answers) == sorted(f"step {i}" for i in range(1, 201))
