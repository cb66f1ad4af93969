"""Read copy of approval's supervision clocks and cards and of intake's visits, as the assessment
and the published figures need them (kept from ``approval.clock.*``, ``approval.card.raised`` and
``intake.visit.recorded``). Approval owns them (``services/approval/supervision``); only the
handlers in ``services/rating/consumers.py`` write this copy, through ``service.py``."""
