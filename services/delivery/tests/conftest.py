"""Fixtures of delivery's tests (defined in ``support``)."""

from services.delivery.tests.support import delivery

__all__ = ["delivery"]
