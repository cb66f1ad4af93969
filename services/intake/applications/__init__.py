"""Applications: materials, one-window acceptance with 容缺, the applicant's single timeline.

Intake sets the first statuses (draft to accepted or not accepted); the other services' events
set the rest (``reactions``) and never take an application back. Where each part lives:

- ``access``: who may read, act on or list an application; ``load`` (or 404).
- ``events``: waits (suspend/resume), visits, and the applicant and delivery as events carry them.
- the steps, each publishing through the outbox in the caller's transaction and never committing:
  ``creation`` (the draft), ``materials`` (uploads, deleting a draft, supplements),
  ``review`` (submit, and the clerk's accept/return/refuse).
- ``reading``: the read side (``view`` returns a ``Dossier``; a material's state on a day).
- ``presenter``: the API's shapes, built beside the routes (``endpoints``).
- ``repository`` and ``listing_repository``: every query.
- ``reactions``: how an application follows the other services' events; ``jobs``: its periodic work.
"""
