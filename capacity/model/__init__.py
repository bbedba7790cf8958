"""Model folders (docs/model-format.md): loading, typed tables and validation."""
from .load import Model, Stage, load_model

__all__ = ["Model", "Stage", "load_model"]
