"""Shared fixtures of the QA tests."""

from __future__ import annotations

import pytest

from kefu.qa import Lexicons, load_lexicons


@pytest.fixture(scope="session")
def lexicons() -> Lexicons:
    return load_lexicons()
