"""Delivery's Alembic environment: delivery's metadata, delivery's database, nothing else."""

from owkernel.migrations import run_env
from services.delivery.db import Base, import_models
from services.delivery.settings import get_settings

import_models()
run_env(metadata=Base.metadata, default_url=get_settings().database_url)
