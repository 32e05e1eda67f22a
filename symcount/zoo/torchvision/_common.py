"""What the torchvision entries share: their arguments and torch's module names.

Every layer carries the name torchvision gives its module (``layer1.0.conv1``,
``features.denseblock1.denselayer1.norm1``), so a layer's weights are named as in
``model.named_parameters()``; blocks carry the attribute names that group them
(``layer1`` › ``0``). A run of ``n`` identical blocks is one ``Repeat`` whose name gives
the indices it stands for: ``layer3.1-5`` for ``layer3.1`` … ``layer3.5``. Operations a
``forward`` performs without a module (``torch.flatten``, ``out += identity``,
``torch.cat``) are named after the function.
"""

from __future__ import annotations

from ...graph import Repeat
from ...torch import Input

#: the dims every torchvision classifier takes: ``num_classes`` and the input image's size
DIMS = {"num_classes": 1000, "H": 224, "W": 224}


def image(H, W):
    """The input: a batch of RGB images, channels first."""
    return Input((3, H, W))


def sequential(prefix: str, layers) -> list:
    """An ``nn.Sequential``'s children, named ``prefix.0``, ``prefix.1``, … as torch names them."""
    return [layer.replace(name=f"{prefix}.{i}") for i, layer in enumerate(layers)]


def run_name(first: int, n: int) -> str:
    """The indices of ``n`` blocks from ``first``: ``"1"`` or ``"1-5"``."""
    return str(first) if n == 1 else f"{first}-{first + n - 1}"


def repeated(make, first: int, n: int) -> list:
    """``n`` identical blocks from index ``first``, ``make(index_name)`` building one: [] for
    none, the block itself for one, one ``Repeat`` for more."""
    if n <= 0:
        return []
    block = make(run_name(first, n))
    return [block] if n == 1 else [Repeat(block, n)]


__all__ = ["DIMS", "image", "repeated", "run_name", "sequential"]
