"""The identities the simulator accepts: a resident ID number or a unified social credit code."""

from __future__ import annotations

import hashlib

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError


class InvalidNumberError(ValueError):
    """Neither a valid resident ID number nor a valid unified social credit code."""


def classify(raw: str) -> tuple[str, str]:
    """The normalised number and its kind ("person" or "enterprise"), or InvalidNumberError."""
    number = raw.strip().upper()
    try:
        return ric.validate(number), "person"
    except ValidationError:
        pass
    # Seventeen digits first is a mistyped resident ID number, never a credit code (an all-digit
    # string meets the credit code's MOD 31 check one time in 31).
    if not number[:17].isdigit():
        try:
            return uscc.validate(number), "enterprise"
        except ValidationError:
            pass
    raise InvalidNumberError(
        "请输入有效的居民身份证号码或统一社会信用代码 / Enter a valid resident ID number or unified social credit code."
    )


def pseudonymous_subject(issuer: str, id_number: str) -> str:
    """The stable ``sub`` of an identity: hex SHA-256 of issuer and number, first 32 characters."""
    return hashlib.sha256((issuer + id_number).encode()).hexdigest()[:32]
