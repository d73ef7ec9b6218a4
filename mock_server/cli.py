"""Command line: ``mock-server [serve] [flags]`` and ``mock-server check PATH...``."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from typing import Any

from .errors import ConfigError

COMMANDS = ("serve", "check")
DISTRIBUTION = "llm-mock-server"


def installed_version() -> str:
    """The version of the installed distribution, from its metadata (the one source)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "unknown (not installed)"


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked for (reading the
    package's metadata would cost every start-up some milliseconds)."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"{parser.prog} {installed_version()}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    from .config import DEFAULT_HOST, DEFAULT_PORT, RECORD_MODES

    parser = argparse.ArgumentParser(
        prog="mock-server",
        description="Emulate OpenAI-compatible APIs (chat completions, the Responses API,"
        " embeddings) from YAML scenarios.",
        epilog="Without a command, mock-server serves: `mock-server serve --help` lists its flags.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the server (the default command)")
    names: dict[str, str] = {}  # setting -> the flag that sets it, for messages

    def flag(*options: str, **kwargs: Any) -> None:
        names.setdefault(serve.add_argument(*options, **kwargs).dest, options[0])

    flag("--host", help=f"address to bind (default {DEFAULT_HOST})")
    flag("--port", type=int, help=f"port to bind (default {DEFAULT_PORT})")
    flag(
        "--scenarios",
        action="append",
        metavar="PATH",
        help="scenario file or folder; repeatable; replaces the bundled scenarios/",
    )
    flag("--profile", help="default profile (default openai)")
    flag(
        "--profile-file",
        action="append",
        dest="profile_files",
        metavar="FILE",
        help="an extra profile file; repeatable",
    )
    flag(
        "--strict",
        action="store_true",
        default=None,
        help="answer 404 mock_no_match when no scenario matches",
    )
    flag(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only these keys; repeatable",
    )
    flag("--config", help="YAML config file (see docs/configuration.md)")
    flag(
        "--watch", action="store_true", default=None, help="reload scenario files when they change"
    )
    flag("--seed", type=int, help="seed for ids, jitter and chaos")
    flag(
        "--no-overrides",
        action="store_false",
        dest="overrides",
        default=None,
        help="ignore the X-Mock-Scenario/-Status/-Fault request headers",
    )
    flag(
        "--no-shortcut",
        action="store_false",
        dest="shortcut",
        default=None,
        help="answer every request through aiohttp's public path (see docs/performance.md)",
    )
    flag("--admin-token", help="require this token on /__admin calls")
    flag(
        "--max-concurrent-requests",
        type=int,
        dest="max_concurrent_requests",
        help="answer 503 when more requests than this are in flight",
    )
    flag(
        "--clock",
        choices=["real", "manual"],
        help="manual: time moves only through POST /__admin/clock",
    )
    flag(
        "--max-body-bytes",
        type=int,
        dest="max_body_bytes",
        help="largest request body accepted (default 10 MiB)",
    )
    flag(
        "--record",
        action="append",
        metavar="[PROFILE=]URL",
        help="forward what no scenario answers to this upstream and record it; repeatable",
    )
    flag(
        "--record-to",
        dest="record_to",
        metavar="PATH",
        help="recording file, or folder for one file per profile (default recordings/; '' for"
        " none: only tenants record, into the files they name)",
    )
    flag(
        "--record-mode",
        dest="record_mode",
        choices=RECORD_MODES,
        help="new: record misses (default; none with --strict); all: always forward; "
        "none: replay only",
    )
    flag(
        "--record-timing",
        dest="record_timing",
        choices=["on", "off"],
        help="keep a recorded stream's time to first chunk and pace (default on)",
    )
    flag(
        "--redact",
        action="append",
        metavar="REGEX",
        help="also replace what this regex matches in recordings; repeatable",
    )
    flag(
        "--upstream-timeout",
        type=float,
        dest="upstream_timeout",
        metavar="SECONDS",
        help="answer 504 when the upstream is silent this long (default 60)",
    )
    flag(
        "--log-format",
        choices=["text", "json"],
        dest="log_format",
        help="one line per request on stdout: text (default) or JSON lines",
    )
    flag(
        "--quiet",
        action="store_const",
        const="none",
        dest="log_format",
        help="no line per request",
    )
    serve.set_defaults(flag_names=names)
    check = commands.add_parser("check", help="lint scenario files without serving")
    check.add_argument(
        "paths", nargs="+", metavar="PATH", help="a scenario file, or a folder of them; repeatable"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    # Start-up allocates many long-lived objects (modules, compiled schemas, scenarios): collect
    # no garbage while they are built; a server then freezes them out of future collections.
    gc.disable()
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
            argv.insert(0, "serve")
        args = _parser().parse_args(argv)
        if args.command == "check":
            from .engine.loading import check_paths

            return check_paths(args.paths)
        return _serve(vars(args))
    except ConfigError as exc:
        print(f"mock-server: {exc}", file=sys.stderr)
        return 2
    finally:
        gc.enable()


def _serve(flags: dict) -> int:
    from .config import build_settings, unknown_variables
    from .server.addresses import is_loopback
    from .server.app import banner, create_app, server_options
    from .server.connection import run_app

    config_file = flags.pop("config", None)
    flag_names = flags.pop("flag_names")
    flags.pop("command", None)
    if flags.get("record_timing") is not None:
        flags["record_timing"] = flags["record_timing"] == "on"
    settings = build_settings(flags, config_file, flag_names=flag_names)
    if settings.log_format is None:
        settings.log_format = "text"  # a server on its own logs its requests
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log = logging.getLogger("mock_server")
    for problem in unknown_variables():
        log.warning("mock-server: %s", problem)
    if not is_loopback(settings.host) and not settings.admin_token:
        log.warning(
            "mock-server: listening on %s without an admin token: whoever reaches the port can "
            "change its scenarios and read its journal (--admin-token)",
            settings.host,
        )
    app = create_app(settings)
    gc.freeze()
    gc.enable()
    run_app(
        app,
        settings.host,
        settings.port,
        # Said once the socket is bound, so whoever reads it can connect straight away.
        lambda port: print(banner(app, port), flush=True),
        **server_options(settings),
    )
    # The process ends here: the interpreter's last collections need not walk all the server
    # held (seconds, for a tenant holding a long scenario document).
    gc.freeze()
    return 0
