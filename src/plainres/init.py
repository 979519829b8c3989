"""Weight initialisations: KWI for plain nets (YT Eq. 3), HMWI for residual nets (YT Eq. 4).

Both draw every convolution kernel from N(0, σ²) with S = C·U·V (input channels × kernel size),
set conv biases to 0, and leave BN at (γ=1, β=0). The FC layer gets PyTorch's default
(U(−1/√fan_in, 1/√fan_in) for weights and bias), which agrees with YT Table 4.
All draws come from the given generator, so an init seed fixes the weights exactly.
"""

from __future__ import annotations

import math

import torch
from torch import nn

INITS = ("kwi", "hmwi")


def kwi_std(fan_in: int) -> float:
    """σ_p = √(2/S) (YT Eq. 3)."""
    return math.sqrt(2.0 / fan_in)


def hmwi_std(fan_in: int) -> float:
    """σ_r = 1/S (YT Eq. 4)."""
    return 1.0 / fan_in


def _init(model: nn.Module, std_of, generator: torch.Generator | None) -> nn.Module:
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
                module.weight.normal_(0.0, std_of(fan_in), generator=generator)
                mask = getattr(module, "mask", None)
                if mask is not None:
                    module.weight.mul_(mask)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)
                module.weight.uniform_(-bound, bound, generator=generator)
                if module.bias is not None:
                    module.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
    return model


def kaiming_init(model: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """KWI: conv weights ~ N(0, 2/S), biases 0 (YT Eq. 3)."""
    return _init(model, kwi_std, generator)


def hardt_ma_init(model: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """HMWI: conv weights ~ N(0, 1/S²), biases 0, every conv layer including the first (YT Eq. 4)."""
    return _init(model, hmwi_std, generator)


def initialise(model: nn.Module, init: str, seed: int) -> nn.Module:
    """Apply the named init ('kwi' or 'hmwi') from a generator seeded by `seed`."""
    inits = {"kwi": kaiming_init, "hmwi": hardt_ma_init}
    if init not in inits:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    return inits[init](model, generator)
