"""Intake's Alembic environment: intake's metadata, intake's database, nothing else."""

from owkernel.migrations import run_env
from services.intake.db import Base, import_models
from services.intake.settings import get_settings

import_models()
run_env(metadata=Base.metadata, default_url=get_settings().database_url)
