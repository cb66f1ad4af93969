"""Gateway's Alembic environment: gateway's metadata, gateway's database, nothing else."""

from gateway.db import Base, import_models
from gateway.settings import get_settings
from owkernel.migrations import run_env

import_models()
run_env(metadata=Base.metadata, default_url=get_settings().database_url)
