"""Model folders: loading, typed tables and validation (DESIGN §3)."""
from .load import Model, Stage, load_model

__all__ = ["Model", "Stage", "load_model"]
