"""Approval's Alembic environment: approval's metadata, approval's database, nothing else."""

from owkernel.migrations import run_env
from services.approval.db import Base, import_models
from services.approval.settings import get_settings

import_models()
run_env(metadata=Base.metadata, default_url=get_settings().database_url)
