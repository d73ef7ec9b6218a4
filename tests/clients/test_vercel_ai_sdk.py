"""The Vercel AI SDK's default ``openai(...)`` provider (node), plain and streamed, with a
function tool, against a real server. ``CLIENT_TESTS_VERCEL_DIR`` names a copy of ``vercel/``
where CI installed its packages (node finds them beside the script); by default, ``vercel/``
itself."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from weather import answered, weather_server

HERE = Path(__file__).parent / "vercel"


def test_generate_text_and_stream_text_with_a_tool():
    with weather_server() as server:
        installed = Path(os.environ.get("CLIENT_TESTS_VERCEL_DIR", HERE))
        done = subprocess.run(
            ["node", str(installed / "weather.mjs"), server.base_url, server.api_key],
            cwd=installed,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        said = json.loads(done.stdout)
        assert said == {
            "plain": "It is sunny in Oslo.",
            "calls": [["get_weather", {"city": "Oslo"}]],
            "streamed": "It is sunny in Oslo.",
        }
        assert (
            answered(server)
            == [
                ("responses", "asks", 200),
                ("responses", "answers", 200),
            ]
            * 2
        )
