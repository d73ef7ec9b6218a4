"""The code base stays ruff-clean and the public surface stays deliberate."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT

import mock_server


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed by the test extra")
def test_ruff_clean():
    result = subprocess.run(
        ["ruff", "check", "mock_server", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_exported_members():
    assert mock_server.__all__ == sorted(mock_server.__all__)
    for name in mock_server.__all__:
        assert hasattr(mock_server, name)
