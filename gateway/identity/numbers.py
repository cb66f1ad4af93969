"""The one identity number: a resident ID number (GB 11643) or a unified social credit code (GB 32100)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError


@dataclass(frozen=True)
class IdentityNumber:
    """A validated number and the kind of subject it identifies."""

    number: str
    kind: str  # "person" | "enterprise"


class InvalidIdentityNumberError(ValueError):
    """The number is neither a valid resident ID number nor a valid credit code; says why, ``code`` what."""

    def __init__(self, message: str, code: str = "identity_number_invalid") -> None:
        super().__init__(message)
        self.code = code


def _why_code(exc: ValidationError) -> str:
    if isinstance(exc, InvalidLength):
        return "identity_number_length"
    if isinstance(exc, InvalidChecksum):
        return "identity_number_checksum"
    if isinstance(exc, InvalidComponent):
        return "identity_number_component"
    if isinstance(exc, InvalidFormat):
        return "identity_number_format"
    return "identity_number_invalid"


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


def _meant_as_resident_id(number: str) -> bool:
    """17 digits, a digit or X, and a birth date where GB 11643 puts it.

    Such a string is taken as a resident ID number even when it fails: a mistyped ID number
    must not pass as an enterprise's credit code (an all-digit string meets the MOD 31 check
    one time in 31).
    """
    if not (len(number) == 18 and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def classify(raw: str) -> IdentityNumber:
    """Validate ``raw`` and tell whether it names a person or an enterprise."""
    number = raw.strip().upper()
    try:
        return IdentityNumber(number=ric.validate(number), kind="person")
    except ValidationError as person_error:
        if _meant_as_resident_id(number) or (len(number) == 18 and number[:17].isdigit() and number[17] == "X"):
            raise InvalidIdentityNumberError(
                _why(person_error, "resident ID number"), _why_code(person_error)
            ) from None
        try:
            return IdentityNumber(number=uscc.validate(number), kind="enterprise")
        except ValidationError as enterprise_error:
            if len(number) != 18:
                raise InvalidIdentityNumberError(
                    "An identity number is an 18-character resident ID number or unified social credit code.",
                    "identity_number_length",
                ) from None
            if number[:17].isdigit():
                raise InvalidIdentityNumberError(
                    _why(person_error, "resident ID number"), _why_code(person_error)
                ) from None
            raise InvalidIdentityNumberError(
                _why(enterprise_error, "unified social credit code"), _why_code(enterprise_error)
            ) from None


def is_identity_number(raw: str) -> bool:
    """True if ``raw`` is a valid number of either kind (such a string is never a staff username)."""
    try:
        classify(raw)
    except InvalidIdentityNumberError:
        return False
    return True


def normalize_account(raw: str) -> str:
    """An identity number in its canonical form, or the username as typed."""
    value = raw.strip()
    try:
        return classify(value).number
    except InvalidIdentityNumberError:
        return value
