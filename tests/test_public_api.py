from __future__ import annotations

import cadence.errors as errors
from cadence.errors import CadenceError


def test_errors_module_exports_exactly_the_error_family() -> None:
    exported = {
        n
        for n in dir(errors)
        if isinstance(getattr(errors, n), type) and issubclass(getattr(errors, n), CadenceError)
    }
    assert set(errors.__all__) == exported


def test_every_error_is_documented_in_the_tree() -> None:
    for name in errors.__all__:
        assert name in (errors.__doc__ or ""), name
