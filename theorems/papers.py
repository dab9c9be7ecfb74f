"""The paper modules whose claims are registered (import order = report order)."""
from . import jang2024  # noqa: F401
