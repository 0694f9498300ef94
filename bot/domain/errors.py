"""Domain errors: facts with a stable code, rendered to text by the Telegram layer.

Every error a user can cause has a code the renderer maps to a translated
sentence; `details` carries the numbers the sentence needs.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, **details: Any) -> None:
        super().__init__(self.code, details)
        self.details = details


class NotAMember(DomainError):
    code = "not_a_member"


class MemberNotFound(DomainError):
    code = "member_not_found"


class AmbiguousMember(DomainError):
    code = "ambiguous_member"


class InvalidAmount(DomainError):
    code = "invalid_amount"


class AmountTooLarge(DomainError):
    code = "amount_too_large"


class InvalidPoints(DomainError):
    code = "invalid_points"


class InsufficientPoints(DomainError):
    code = "insufficient_points"


class NoteTooLong(DomainError):
    code = "note_too_long"


class MemberForgotten(DomainError):
    code = "member_forgotten"


class SelfService(DomainError):
    """Staff crediting their own account (SPEC §4): only an owner may, audited.
    details: action = "award" | "stamp" | "birthday"."""

    code = "self_service"


class StaleAction(DomainError):
    """A button from an old menu, another user's button, or forged data."""

    code = "stale_action"
