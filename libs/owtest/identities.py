"""Valid identity numbers for tests: a resident's (GB 11643) and an enterprise's (GB 32100)."""

from __future__ import annotations

import random

from stdnum.cn import ric, uscc

# The alphabet of a unified social credit code's body (GB 32100: no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def resident_id(region: str = "370602") -> str:
    """A valid 18-character resident ID number of ``region`` (Zhifu district, Yantai), born
    between 1985 and 2004; random, so two calls give two people."""
    body = f"{region}{random.randint(1985, 2004)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    body += f"{random.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code() -> str:
    """A valid unified social credit code, with a letter so it is never read as an ID number."""
    body = "91370602" + "".join(random.choice(USCC_ALPHABET) for _ in range(8)) + "M"
    return body + uscc.calc_check_digit(body)
