"""Per-request override headers, for quick manual tests and client-resilience tests:

- ``X-Mock-Scenario: name`` — answer with that scenario (its conditions are not checked; its
  sequence advances as usual);
- ``X-Mock-Status: 429`` — answer with that error status, in the profile's wording;
- ``X-Mock-Fault: disconnect`` (or ``disconnect:3``, after three chunks) — inject that fault.

Off with ``--no-overrides``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ApiError
from ..wire.faults import PLAIN_FAULTS, STREAM_FAULTS, Fault
from .headers import readable

_STATUS = re.compile(r"[0-9]{3}")
_COUNT = re.compile(r"[0-9]{1,6}")
SCENARIO_HEADER = "X-Mock-Scenario"
STATUS_HEADER = "X-Mock-Status"
FAULT_HEADER = "X-Mock-Fault"


@dataclass(frozen=True)
class Overrides:
    """What a request's X-Mock-* headers ask for (see ``read_overrides``)."""

    scenario: str | None = None
    status: int | None = None
    fault: Fault | None = None


NONE = Overrides()


def read_overrides(headers: Mapping[str, str]) -> Overrides:
    """The overrides a request asks for; ``ApiError`` 400 for a malformed one."""
    scenario = headers.get(SCENARIO_HEADER)
    status_text = headers.get(STATUS_HEADER)
    fault_text = headers.get(FAULT_HEADER)
    if scenario is None and status_text is None and fault_text is None:
        return NONE
    scenario, status_text, fault_text = (
        None if text is None else readable(text) for text in (scenario, status_text, fault_text)
    )
    status = None
    if status_text is not None:
        if not _STATUS.fullmatch(status_text) or not 400 <= int(status_text) <= 599:
            raise _bad(STATUS_HEADER, f"'{status_text}' is not an HTTP error status (400-599)")
        status = int(status_text)
    fault = None
    if fault_text is not None:
        kind, colon, after = fault_text.partition(":")
        if kind not in PLAIN_FAULTS + STREAM_FAULTS or (colon and not _COUNT.fullmatch(after)):
            known = ", ".join(PLAIN_FAULTS + STREAM_FAULTS)
            raise _bad(
                FAULT_HEADER,
                f"'{fault_text}' is not a fault; use one of {known} "
                "(stream faults may add ':N' chunks)",
            )
        fault = Fault(kind, int(after) if colon else None)
    return Overrides(scenario, status, fault)


def _bad(header: str, detail: str) -> ApiError:
    return ApiError(
        "400", f"Invalid {header} header: {detail}.", param=None, code="invalid_override"
    )
