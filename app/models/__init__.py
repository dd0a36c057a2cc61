"""All tables; importing this module registers every model on `Base.metadata`."""

from app.models.base import Base

__all__ = ["Base"]
