"""Fault injection for the sandbox's Oro: latency, random errors, and "down".

Faults apply to every request the sandbox's Oro answers (the JSON:API, the legacy REST endpoints,
the token and authorize endpoints), never to the control endpoint ``/oro/_sandbox/faults``.

Down: a request that arrives while ``down`` is set is *held* without a byte of answer until ``down``
is cleared (the request then proceeds normally) or ``down_hold_seconds`` pass (it then gets a
503). A client with a read timeout shorter than the hold therefore sees exactly what it would see
from a hung Oro: a read timeout. A hold cap keeps a forgotten ``down`` from pinning server threads
forever.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ERROR_STATUSES = (500, 503, 429)


@dataclass
class FaultSettings:
    """The knobs, as the CLI and the control endpoint set them."""

    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = ERROR_STATUSES
    retry_after_seconds: int = 1
    down: bool = False
    down_hold_seconds: float = 30.0
    seed: int = 0


@dataclass
class FaultDecision:
    """What one request suffers: a delay, then possibly an error status instead of an answer."""

    delay_seconds: float
    error_status: int | None


class FaultError(ValueError):
    """A fault setting was given a value it cannot take."""


@dataclass
class OroFaults:
    """Thread-safe fault controls with their own seeded random generator.

    ``configure(**kw)`` changes any subset of :class:`FaultSettings` at start (the CLI) or while the
    sandbox runs (the control endpoint). Reading the decision for a request and waiting while down
    never hold the world's lock.
    """

    settings: FaultSettings = field(default_factory=FaultSettings)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _up: threading.Condition = field(init=False, repr=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._up = threading.Condition(self._lock)
        self._rng = random.Random(self.settings.seed)

    def configure(self, **changes: Any) -> FaultSettings:
        """Apply ``changes`` (names of :class:`FaultSettings`), validate them, return the new settings."""
        known = {f.name for f in fields(FaultSettings)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise FaultError(f"unknown fault setting(s): {', '.join(unknown)}")
        with self._lock:
            current = asdict(self.settings)
            current.update({name: _coerce(name, value) for name, value in changes.items()})
            candidate = FaultSettings(**current)
            _validate(candidate)
            if "seed" in changes:
                self._rng = random.Random(candidate.seed)
            self.settings = candidate
            self._up.notify_all()
            return candidate

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            values = asdict(self.settings)
        values["error_statuses"] = list(values["error_statuses"])
        return values

    def decide(self) -> FaultDecision:
        """Draw this request's delay and error from the seeded generator."""
        with self._lock:
            s = self.settings
            delay_ms = s.latency_ms + (self._rng.uniform(0, s.jitter_ms) if s.jitter_ms else 0.0)
            error = None
            if s.error_rate and self._rng.random() < s.error_rate:
                error = self._rng.choice(s.error_statuses)
        return FaultDecision(delay_seconds=delay_ms / 1000.0, error_status=error)

    def wait_while_down(self) -> bool:
        """Hold the caller while down; True when Oro is up again, False when the hold cap passed."""
        with self._lock:
            if not self.settings.down:
                return True
            self._up.wait_for(lambda: not self.settings.down, timeout=self.settings.down_hold_seconds)
            return not self.settings.down

    @property
    def retry_after_seconds(self) -> int:
        with self._lock:
            return self.settings.retry_after_seconds


_INTEGERS = {"latency_ms", "jitter_ms", "retry_after_seconds", "seed"}
_FLOATS = {"error_rate", "down_hold_seconds"}


def _coerce(name: str, value: Any) -> Any:
    try:
        if name in _INTEGERS:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise FaultError(f"{name} must be an integer")
            return int(float(value))
        if name in _FLOATS:
            if isinstance(value, bool):
                raise FaultError(f"{name} must be a number")
            return float(value)
        if name == "down":
            if not isinstance(value, bool):
                raise FaultError("down must be true or false")
            return value
        if name == "error_statuses":
            if isinstance(value, (str, bytes)):
                value = [part for part in str(value).split(",") if part.strip()]
            return tuple(int(status) for status in value)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, FaultError):
            raise
        raise FaultError(f"{name}: {value!r} is not a valid value") from exc
    return value


def _validate(s: FaultSettings) -> None:
    if s.latency_ms < 0 or s.jitter_ms < 0:
        raise FaultError("latency_ms and jitter_ms must not be negative")
    if not 0.0 <= s.error_rate <= 1.0:
        raise FaultError("error_rate must be between 0 and 1")
    if not s.error_statuses or any(status not in ERROR_STATUSES for status in s.error_statuses):
        raise FaultError("error_statuses must be a non-empty subset of 500, 503 and 429")
    if s.retry_after_seconds < 0:
        raise FaultError("retry_after_seconds must not be negative")
    if s.down_hold_seconds < 0:
        raise FaultError("down_hold_seconds must not be negative")
