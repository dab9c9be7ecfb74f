"""The paper modules whose claims are registered (import order = report order)."""
from . import jang2024  # noqa: F401
from . import kim2025  # noqa: F401
from . import xu2025  # noqa: F401
from . import dayi2024  # noqa: F401
from . import realnet  # noqa: F401
from . import realnet_peft  # noqa: F401  (after realnet: its realnet.peft_* claims build on realnet)
from . import realmodel  # noqa: F401  (a pretrained transformer; builds on realnet)
from . import realmodel_experiments  # noqa: F401  (the papers' experiments on the same transformer)
