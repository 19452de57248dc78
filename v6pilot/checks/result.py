"""What a check returns: a status, a machine-readable value, and an explanation in two languages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from v6pilot import i18n


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict on one target; `code` is the message key in the i18n catalogues."""

    status: Status
    code: str
    value: Any = None
    message: str = ""
    message_zh: str = ""

    @classmethod
    def make(cls, status: Status, code: str, value: Any = None, **params: Any) -> CheckResult:
        """A result whose English and Chinese messages are rendered from message `code`."""
        return cls(
            status=status,
            code=code,
            value=value,
            message=i18n.render(code, "en", **params),
            message_zh=i18n.render(code, "zh", **params),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "value": self.value,
            "message": self.message,
            "message_zh": self.message_zh,
        }
