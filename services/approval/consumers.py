"""Approval's event handlers (what it consumes from other services)."""

from __future__ import annotations

from owkernel.consumer import ConsumerGroup

consumers = ConsumerGroup(service="approval")
