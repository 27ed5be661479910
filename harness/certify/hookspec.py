"""Hooks teecert adds to pytest, so other plugins (a TEE vendor's) can extend a run."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_teecert_environment(config: pytest.Config, fingerprint: dict[str, Any]) -> None:
    """Add or update facts in the environment fingerprint before the report is signed.

    Called once, on the controller.  Modify ``fingerprint`` in place; values must be
    strings, integers, booleans, lists or objects (signed reports carry no floats).
    Facts added here are recorded but are not part of the environment identity
    digest, which covers only the fields listed in docs/report-format.md.
    """


@pytest.hookspec
def pytest_teecert_report(config: pytest.Config, statement: dict[str, Any]) -> None:
    """Called on the controller with the in-toto statement after it was signed and
    written (read only): e.g. to upload it or print a summary of one's own."""
