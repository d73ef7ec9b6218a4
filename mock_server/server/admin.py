"""The admin API under ``[/t/{tenant}]/__admin``: health, journal, scenarios, reset.

Admin calls are not journaled. With ``--admin-token`` set, every admin call needs it as
``Authorization: Bearer TOKEN`` or ``X-Admin-Token: TOKEN``.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ..caches import SHARED
from ..checks.schema import did_you_mean
from ..checks.verdicts import fast_verdicts
from ..config import FALSE_WORDS, TRUE_WORDS
from ..engine.loading import ScenarioProblems, check_profiles, parse_scenarios
from ..engine.scenario import Scenario
from ..engine.values import shown
from ..errors import ConfigError
from ..gc_pause import without_gc
from .addresses import is_loopback, named
from .admin_body import FLAG, FLAG_OR_NULL, NUMBER, TEXT, Field, read_fields
from .apis.api import Api
from .headers import raw, readable
from .journal import BODY_LIMIT, entry, entry_json, sent_body
from .render import as_api_error, json_response
from .request_body import ClientGone, read_body
from .routing import API_ROUTES
from .scenario_export import scenario_yaml
from .state import STATE, ServerState
from .tenants import MAX_ADDED_SCENARIOS, Tenant

_COUNT = re.compile(r"[0-9]{1,9}")
# The journal's filters whose values have a form, with what that form is in words.
_FILTERS = {
    "limit": (_COUNT, "a number of entries"),
    "status": (re.compile(r"[0-9]{1,3}"), "an HTTP status such as 429 (0: no response)"),
    "unmatched": (re.compile("|".join(TRUE_WORDS + FALSE_WORDS), re.IGNORECASE), "true or false"),
}
_FILTER_NAMES = (*_FILTERS, "scenario", "after")
ADDED_SOURCE = "<admin>"  # what added scenarios' messages name as their file, unless told
MAX_SOURCE_CHARS = 1000


def _state(request: web.Request) -> ServerState:
    return request.app[STATE]


def _reply(request: web.Request, payload: Any, status: int = 200) -> web.Response:
    return json_response(payload, status, {"x-request-id": _state(request).ids.request()})


def _apis(request: web.Request) -> dict[str, Api]:
    """The APIs this server serves, by name."""
    return {api.name: api for api, _ in request.app[API_ROUTES].values()}


def _tenant(request: web.Request) -> Tenant:
    return _state(request).tenants.get(request.match_info.get("tenant"))


def _admin_error(request: web.Request, status: int, message: str, kind: str) -> web.Response:
    return _reply(
        request, {"error": {"message": message, "type": kind, "param": None, "code": None}}, status
    )


def method_not_allowed(request: web.Request, allowed: list[str]) -> web.Response:
    """405 for an admin path called with a method it does not take, naming those it does."""
    methods = ", ".join(allowed)
    response = _admin_error(
        request, 405,
        f"{readable(request.method)} is not a method of {readable(request.path)}; it takes "
        f"{methods}.",
        "method_not_allowed",
    )  # fmt: skip
    response.headers["Allow"] = methods
    return response


def _beyond_bounds(
    request: web.Request, tenant: Tenant, scenarios: list[Scenario]
) -> web.Response | None:
    """A 409 when configuring ``tenant``, adding ``scenarios``, would pass a bound the tenants
    module documents; None when it is within them."""
    tenants = _state(request).tenants
    if not tenants.may_configure(tenant):
        return _admin_error(
            request, 409,
            f"At most max_tenants ({tenants.max_tenants:,}) tenants are configured through the "
            "admin API at once; reset one first (POST /t/NAME/__admin/reset).",
            "too_many_tenants",
        )  # fmt: skip
    names = {*tenant.scenarios.added.by_name, *(s.name for s in scenarios)}
    if len(names) > MAX_ADDED_SCENARIOS:
        return _admin_error(
            request, 409,
            f"A tenant holds at most {MAX_ADDED_SCENARIOS:,} added scenarios; this would make "
            f"{len(names):,}. Delete some first (DELETE /__admin/scenarios).",
            "too_many_scenarios",
        )  # fmt: skip
    tenants.hold(tenant)
    return None


async def _body(request: web.Request) -> bytes:
    """The request body, read and decoded as API request bodies are (size, time, encoding)."""
    settings = _state(request).settings
    return await read_body(request, settings.max_body_bytes, settings.body_timeout)


async def _fields(
    request: web.Request, usage: str, kind: str, fields: dict[str, Field], *required: str
) -> dict[str, Any]:
    """The request body as a JSON object of ``fields`` (``admin_body.read_fields``); any other
    is a 400 of type ``kind`` whose message gives ``usage`` (the body as it should be) and what
    is wrong."""
    try:
        return read_fields(await _body(request), fields, required)
    except ValueError as exc:
        raise Refused(400, f"expected {usage}: {exc}", kind) from None


class Refused(Exception):
    """An admin call refused: answered ``status``, with ``message`` and its ``kind``."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def _authorized(request: web.Request) -> bool:
    token = _state(request).settings.admin_token
    if not token:
        return True
    given = request.headers.get("X-Admin-Token", "")
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        given = given or bearer.strip()
    return hmac.compare_digest(raw(given), token.encode())


def _from_a_web_page(request: web.Request) -> str | None:
    """Why ``request`` may come from a web page another site served, which the user's browser
    sends on the page's behalf; None when it cannot. A change (any method but ``GET`` and
    ``HEAD``) is refused when the browser says it comes from another origin (``Origin``,
    ``Sec-Fetch-Site``: cross-site request forgery); any call to a server listening on a
    loopback address is refused when it is addressed to a name that is not one (``Host``: a
    name rebound to 127.0.0.1 by its DNS, which makes the page's origin the server's)."""
    if request.method not in ("GET", "HEAD"):
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            return f"it comes from a page of another origin ({origin!r})"
        if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
            return "it comes from a page of another site (Sec-Fetch-Site)"
    if is_loopback(_state(request).settings.host) and not is_loopback(named(request.host)):
        return f"it is addressed to {request.host!r}, and this server listens on a loopback address"
    return None


def guarded(handler):
    """``handler`` behind the admin token, every failure answered as a JSON error; a call a
    browser may be making for another site's page is refused first (``_from_a_web_page``)."""

    async def guarded_handler(request: web.Request) -> web.StreamResponse:
        elsewhere = _from_a_web_page(request)
        if elsewhere is not None:
            return _admin_error(
                request, 403, f"This admin API refuses this call: {elsewhere}.", "admin_forbidden"
            )
        if not _authorized(request):
            return _admin_error(
                request, 401, "This admin API needs the admin token.", "admin_unauthorized"
            )
        try:
            return await handler(request)
        except Refused as exc:
            return _admin_error(request, exc.status, exc.message, exc.kind)
        except web.HTTPException as exc:
            return _admin_error(request, exc.status, exc.reason, "invalid_request")
        except (ClientGone, ConnectionError):  # the client hung up
            return web.Response(status=499)
        except Exception as exc:  # a body too large, too slow, not decodable; or a bug of ours
            error = as_api_error(exc, request.path)
            if error is not exc:
                return _admin_error(request, 500, f"internal error: {exc}", "server_error")
            status = error.status or 400
            return _admin_error(request, status, error.detail or str(error), "invalid_request")

    return guarded_handler


async def health(request: web.Request) -> web.Response:
    state = _state(request)
    return _reply(
        request,
        {
            "status": "ok",
            "default_profile": state.profiles.default.name,
            "profiles": [
                {"name": p.name, "description": p.description, "source": p.source, "paths": p.paths}
                for p in sorted(state.profiles, key=lambda p: p.name)
            ],
            "scenarios": len(state.engine.files),
            "shortcut": state.shortcut.as_json(),
            "fast_verdicts": fast_verdicts(),
            "caches": {
                name: cache.stats() for name, cache in sorted({**SHARED, **state.caches}.items())
            },
        },
    )


def _journal(request: web.Request) -> list[dict[str, Any]]:
    """The tenant's journal entries, oldest first."""
    return [entry(values) for values in _tenant(request).journal]


def _filtered(request: web.Request, unmatched_only: bool = False) -> list[dict[str, Any]]:
    """The tenant's journal as the query filters it; a filter's value it cannot read is a 400
    (rather than a filter silently not applied)."""
    query = request.query
    for name in query:
        if name not in _FILTER_NAMES:  # a filter misspelt would be a filter left out
            hint = did_you_mean(name, frozenset(_FILTER_NAMES), {})
            raise web.HTTPBadRequest(
                reason=f"the journal has no filter {shown(name)}.{hint} It takes "
                + ", ".join(f"?{known}=" for known in _FILTER_NAMES)
            )
    for name in _FILTER_NAMES:
        if len(query.getall(name, ())) > 1:  # which one would apply is anybody's guess
            raise web.HTTPBadRequest(reason=f"?{name}= is given more than once")
    for name, (pattern, expected) in _FILTERS.items():
        if name in query and not pattern.fullmatch(query[name]):
            value = shown(query[name])
            raise web.HTTPBadRequest(reason=f"?{name}= must be {expected}, not {value}")
    entries = _journal(request)
    if unmatched_only or query.get("unmatched", "").lower() in TRUE_WORDS:
        entries = [e for e in entries if e["unmatched"]]
    if "scenario" in query:
        entries = [e for e in entries if e["scenario"] == query["scenario"]]
    if "status" in query:
        entries = [e for e in entries if str(e["status"]) == query["status"]]
    if "after" in query:  # what came after the entry with this id (the inspector polls so)
        ids = [e["id"] for e in entries]
        if query["after"] in ids:
            entries = entries[ids.index(query["after"]) + 1 :]
    if "limit" in query:
        entries = entries[-int(query["limit"]) :] if int(query["limit"]) else []
    return entries


def _explainer(request: web.Request) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """What turns an entry into JSON: an unmatched one gets its near-miss report, worked out
    now (requests answered by the fallback do not pay for it when they are served). The tenant,
    the APIs and the engine are looked up here, on the event loop, so that it may run beside
    it (``Tenants.get`` reorders the tenants)."""
    tenant, apis, engine = _tenant(request), _apis(request), _state(request).engine

    def explained(entry: dict[str, Any]) -> dict[str, Any]:
        out = entry_json(entry)
        kept = entry["body"] is not None  # else the report was worked out as it was served
        if (
            entry["unmatched"]
            and out["near_miss"] is None
            and kept
            and isinstance(out["body"], dict)
        ):
            view = apis[entry["api"]].journal_view(out, tenant)
            out["near_miss"] = [
                miss.as_dict() for miss in engine.near_misses(view, tenant.scenarios)
            ]
        return out

    return explained


async def _all_explained(request: web.Request, entries: list[dict[str, Any]]) -> list[Any]:
    """``entries`` as JSON (``_explainer``), beside the event loop, which keeps serving every
    tenant meanwhile: a large body takes milliseconds to read back, and an unmatched one's
    near-miss report more (the journal is read on the loop, where it is written)."""
    explained = _explainer(request)
    return await asyncio.to_thread(lambda: [explained(entry) for entry in entries])


async def list_requests(request: web.Request) -> web.Response:
    entries = await _all_explained(request, _filtered(request))
    return _reply(request, {"count": len(entries), "requests": entries})


async def unmatched_requests(request: web.Request) -> web.Response:
    entries = await _all_explained(request, _filtered(request, unmatched_only=True))
    return _reply(request, {"count": len(entries), "requests": entries})


async def request_as_scenario(request: web.Request) -> web.Response:
    """``GET requests/{id}/scenario``: YAML for a scenario answering that request again."""
    wanted = request.match_info["id"]
    for values in _tenant(request).journal:
        found = entry(values)
        if found["id"] == wanted:
            api = _apis(request)[found["api"]]
            if found["method"] != "POST" or not found["path"].endswith(api.path):
                return _admin_error(
                    request, 409,
                    f"request {wanted!r} ({found['method']} {readable(found['path'])}) reads what "
                    "the server keeps; scenarios answer only the requests that make an answer",
                    "not_answered_by_scenarios",
                )  # fmt: skip
            for part, that in (("body", "matches it"), ("response", "answers it as it was")):
                size = found[f"{part}_bytes"]
                if found[part] is None and size > BODY_LIMIT:
                    return _admin_error(
                        request, 409,
                        f"request {wanted!r} had a {part} of {size:,} bytes, more than the journal "
                        f"keeps ({BODY_LIMIT:,}): no scenario can be built that {that}",
                        "body_not_kept",
                    )  # fmt: skip
            as_json = entry_json(found)
            # Conditions on the request as sent: a credential in it becomes a pattern, as the
            # recorder writes it, where the redacted text would match nothing.
            view = api.journal_view({**as_json, "body": sent_body(found)}, _tenant(request))
            text = _answered_first(as_json) + scenario_yaml(as_json, view, api.needs_scenario)
            return web.Response(text=text, content_type="application/yaml")
    return _admin_error(request, 404, f"no request {wanted!r} in this journal", "not_found")


def _answered_first(entry: dict[str, Any]) -> str:
    """A YAML comment saying that the server answered ``entry``'s request before any scenario
    was asked (a key missing, a body refused, a rate limit), so that a scenario made of it
    answers that request only where it gets past that check; nothing for any other request."""
    if entry["asked"] or not 400 <= entry["status"] < 500:
        return ""
    return (
        f"# The server answered this request ({entry['status']}) before any scenario was asked:\n"
        "# this scenario answers it only where it gets that far (with a key the server takes,\n"
        "# within its limits, as a valid request).\n"
    )


async def count_requests(request: web.Request) -> web.Response:
    return _reply(request, {"count": len(_filtered(request))})


async def delete_requests(request: web.Request) -> web.Response:
    """Clear the tenant's journal, all of it: a filter asked for is a 400, not a filter left
    out of a delete."""
    if request.query:
        raise web.HTTPBadRequest(reason="DELETE .../requests clears the whole journal: no filter")
    _tenant(request).journal.clear()
    return _reply(request, {"deleted": True})


async def list_scenarios(request: web.Request) -> web.Response:
    state, scenarios = _state(request), _tenant(request).scenarios
    added = scenarios.added.by_name
    return _reply(
        request,
        {
            "scenarios": [
                {
                    "name": s.name,
                    "origin": "added" if s.name in added else "file",
                    "source": s.source,
                    "priority": s.priority,
                    "profile": s.profile,
                    "steps": len(s.replies),
                    "served": scenarios.served.get(s.name, 0),
                    "served_per_step": s.served_per_step(scenarios.served.get(s.name, 0)),
                    "on_exhausted": s.on_exhausted,
                    "on_ruled_out": s.on_ruled_out,
                }
                for s in state.engine.visible(scenarios)
            ]
        },
    )


def _source(request: web.Request) -> str | None:
    """What ``?source=`` names the scenarios sent by (a client's file, for its messages), or
    None when that is no short line of printable text. Only a label: the server opens no file
    by it."""
    source = request.query.get("source", ADDED_SOURCE)
    return source if 0 < len(source) <= MAX_SOURCE_CHARS and source.isprintable() else None


@without_gc  # parsing holds it off too; placing them composes the document again
def _placed_scenarios(body: str | bytes, source: str) -> list[Scenario]:
    """``parse_scenarios``, with where each scenario is written worked out too: that composes
    the document, seconds for a long one, which listing them would do on the event loop."""
    scenarios = parse_scenarios(body, source=source)
    for scenario in scenarios:
        scenario.location = str(scenario.location)
    return scenarios


async def add_scenarios(request: web.Request) -> web.Response:
    body, source = await _body(request), _source(request)
    if source is None:
        return _admin_error(
            request, 400,
            f"?source= must be 1 to {MAX_SOURCE_CHARS:,} printable characters: the name of "
            "the scenarios' file, for messages",
            "invalid_scenario",
        )  # fmt: skip
    try:
        # Parsed beside the event loop, which keeps serving every tenant meanwhile: a large
        # document (a long sequence, many tool calls) takes seconds to check and build.
        scenarios = await asyncio.to_thread(_placed_scenarios, body, source)
        check_profiles(scenarios, _state(request).profiles)
    except ScenarioProblems as exc:
        return _admin_error(request, 400, str(exc), "invalid_scenario")
    tenant = _tenant(request)
    refused = _beyond_bounds(request, tenant, scenarios)
    if refused is not None:
        return refused
    tenant.scenarios.add(scenarios)
    return _reply(request, {"added": [s.name for s in scenarios]}, 201)


async def delete_scenarios(request: web.Request) -> web.Response:
    _tenant(request).scenarios.clear()
    return _reply(request, {"deleted": True})


async def delete_scenario(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not _tenant(request).scenarios.remove(name):
        return _admin_error(
            request, 404, f"no scenario {name!r} was added to this tenant", "not_found"
        )
    return _reply(request, {"deleted": name})


async def reset_sequences(request: web.Request) -> web.Response:
    _tenant(request).scenarios.served.clear()
    return _reply(request, {"reset": "sequences"})


async def update_settings(request: web.Request) -> web.Response:
    """Per-tenant settings; today ``strict`` (true, false, or null for the server's)."""
    changes = await _fields(
        request, '{"strict": true}', "invalid_settings",
        {"strict": FLAG_OR_NULL},
    )  # fmt: skip
    tenant = _tenant(request)
    refused = _beyond_bounds(request, tenant, []) if changes.get("strict") is not None else None
    if refused is not None:
        return refused
    if "strict" in changes:
        tenant.strict = changes["strict"]
    return _reply(request, {"strict": tenant.strict})


async def start_recording(request: web.Request) -> web.Response:
    """``PUT recording`` ``{"file": PATH, "mode": "new"|"all"|"none", "fresh": false}``: this
    tenant records what no scenario answers into a file of its own (inside the recording root,
    see ``record.recorder``), and replays that file's scenarios (loaded now, unless ``fresh``)."""
    state = _state(request)
    if state.recorder is None:
        return _admin_error(
            request, 409, "This server does not record: start it with --record [PROFILE=]URL.",
            "not_recording",
        )  # fmt: skip
    spec = await _fields(
        request, '{"file": "PATH.yaml", "mode": "new", "fresh": false}', "invalid_recording",
        {"file": TEXT, "mode": TEXT, "fresh": FLAG}, "file",
    )  # fmt: skip
    path, mode, fresh = Path(spec["file"]), spec.get("mode", "new"), spec.get("fresh", False)

    def replay(found: list[Scenario]) -> None:
        """Replay what was just recorded, while the tenant still records into this file (a
        relay still under way when the tenant was reset leaves it be)."""
        if tenant.recording is target:
            tenant.scenarios.add(found)

    try:
        target = await asyncio.to_thread(state.recorder.tenant_target, mode, path, replay, fresh)
        recorded = list(target.file.scenarios.values())
        scenarios = parse_scenarios({"scenarios": recorded}, str(path)) if recorded else []
    except (ValueError, ConfigError) as exc:  # a path or mode refused, a file that cannot be
        return _admin_error(request, 400, str(exc), "invalid_recording")  # read, or not linted
    except OSError as exc:  # a name past the system's bound, a folder that cannot be listed
        why = exc.strerror or type(exc).__name__
        return _admin_error(
            request, 400, f"cannot record into that file: {why}", "invalid_recording"
        )
    tenant = _tenant(request)  # after the awaits: the tenant as it is now, never a forgotten one
    refused = _beyond_bounds(request, tenant, scenarios)
    if refused is not None:
        return refused
    tenant.scenarios.add(scenarios)
    tenant.recording = target
    return _reply(request, {"file": str(path), "mode": mode, "loaded": len(scenarios)})


async def list_accounts(request: web.Request) -> web.Response:
    state = _state(request)
    now = state.clock.now()
    accounts = [a.as_json(now) for a in _tenant(request).accounts]
    return _reply(request, {"accounts": accounts, "in_flight": state.accounts.in_flight})


async def advance_clock(request: web.Request) -> web.Response:
    """Move a manual clock forward: ``{"seconds": 1.5}``."""
    state = _state(request)
    usage = '{"seconds": N}'
    spec = await _fields(request, usage, "invalid_clock", {"seconds": NUMBER}, "seconds")
    try:
        state.clock.advance(spec["seconds"])
    except ValueError as exc:
        return _admin_error(request, 400, f"expected {usage}: {exc}", "invalid_clock")
    except RuntimeError as exc:
        return _admin_error(request, 409, str(exc), "real_clock")
    return _reply(request, {"now": state.clock.now()})


def _reported(entry: dict[str, Any]) -> bool:
    """Whether ``reset?report=unmatched`` reports a journal entry: unmatched, or warned."""
    return bool(entry["unmatched"] or entry["warnings"])


async def reset(request: web.Request) -> web.Response:
    """Reset the tenant; with ``?report=unmatched``, answer with its unmatched requests first,
    and those a scenario answered with a reply the request rules out (``warned``)."""
    unmatched = warned = None
    others = sorted(set(request.query) - {"report"})
    if others or len(request.query.getall("report", ())) > 1:  # a filter would under-report
        asked = ", ".join(f"?{name}=" for name in others) or "?report= twice"
        raise web.HTTPBadRequest(reason=f"reset takes ?report=unmatched alone, not {shown(asked)}")
    report = request.query.get("report")
    if report is not None and report != "unmatched":  # a report misspelled: nothing is reset
        raise web.HTTPBadRequest(reason=f"?report= must be unmatched, not {shown(report)}")
    if report == "unmatched":
        entries = _journal(request)
        reported = await _all_explained(request, [e for e in entries if _reported(e)])
        # What came in while the report was made is reported too, before the journal goes.
        seen = {e["id"] for e in entries}
        late = [e for e in _journal(request) if e["id"] not in seen and _reported(e)]
        reported += map(_explainer(request), late)
        unmatched = [e for e in reported if e["unmatched"]]
        warned = [e for e in reported if e["warnings"]]
    _tenant(request).reset()
    return _reply(request, {"reset": True, "unmatched": unmatched, "warned": warned})
