"""Read copy of intake's applications, with approval's decisions on them: who applied, for what,
where, who served them, and whether they are decided (kept from ``intake.application.accepted``
and ``approval.application.approved``/``.rejected``; the attribution of ratings). Only the
handlers in ``services/rating/consumers.py`` write it, through ``service.py``."""
