"""The one identity number: a resident ID number (GB 11643) or a unified social credit code (GB 32100)."""

from __future__ import annotations

from dataclasses import dataclass

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError


@dataclass(frozen=True)
class IdentityNumber:
    """A validated number and the kind of subject it identifies."""

    number: str
    kind: str  # "person" | "enterprise"


class InvalidIdentityNumberError(ValueError):
    """The number is neither a valid resident ID number nor a valid credit code; says why."""


def _why(exc: ValidationError, what: str) -> str:
    if isinstance(exc, InvalidLength):
        return f"A {what} has 18 characters."
    if isinstance(exc, InvalidChecksum):
        return f"The {what}'s check character does not match: the number is mistyped."
    if isinstance(exc, InvalidComponent):
        return f"The {what} names a birth date or region that does not exist."
    if isinstance(exc, InvalidFormat):
        return f"The {what} contains characters it cannot contain."
    return f"This is not a valid {what}."


def classify(raw: str) -> IdentityNumber:
    """Validate ``raw`` and tell whether it names a person or an enterprise."""
    number = raw.strip().upper()
    try:
        return IdentityNumber(number=ric.validate(number), kind="person")
    except ValidationError as person_error:
        try:
            return IdentityNumber(number=uscc.validate(number), kind="enterprise")
        except ValidationError as enterprise_error:
            # 17 digits and a digit or X: meant as a resident ID number; else as a credit code.
            looks_personal = len(number) == 18 and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")
            if looks_personal:
                raise InvalidIdentityNumberError(_why(person_error, "resident ID number")) from None
            if len(number) != 18:
                raise InvalidIdentityNumberError(
                    "An identity number is an 18-character resident ID number or unified social credit code."
                ) from None
            raise InvalidIdentityNumberError(_why(enterprise_error, "unified social credit code")) from None


def is_identity_number(raw: str) -> bool:
    """True if ``raw`` is a valid number of either kind (such a string is never a staff username)."""
    try:
        classify(raw)
    except InvalidIdentityNumberError:
        return False
    return True
