"""Rating's Alembic environment: rating's metadata, rating's database, nothing else."""

from owkernel.migrations import run_env
from services.rating.db import Base, import_models
from services.rating.settings import get_settings

import_models()
run_env(metadata=Base.metadata, default_url=get_settings().database_url)
