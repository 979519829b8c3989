"""step.momentum_update on MomentumSGD's buffers is torch.optim.SGD's arithmetic bit for bit, and MomentumSGD takes
over its state."""

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from plainres.runs import Run
from plainres.seedgroup import make_model
from plainres.sgd import MomentumSGD
from plainres.step import momentum_update


def steps(model, optimiser, batches, lrs):
    """SGD steps by torch.optim.SGD, or by step.momentum_update on MomentumSGD's buffers."""
    for (x, y), lr in zip(batches, lrs):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        if isinstance(optimiser, MomentumSGD):
            with torch.no_grad():
                params = list(model.parameters())
                momentum_update(params, [p.grad for p in params], optimiser.momentum_buffers(), lr, optimiser.momentum)
        else:
            for g in optimiser.param_groups:
                g["lr"] = lr
            optimiser.step()


@pytest.mark.parametrize("momentum,dtype", [(0.9, torch.float32), (0.9, torch.float64), (0.0, torch.float32)])
def test_momentum_sgd_equals_torch_sgd_bit_for_bit(momentum, dtype):
    g = torch.Generator().manual_seed(0)
    batches = [
        (torch.randn(16, 3, 32, 32, generator=g, dtype=dtype), torch.randint(10, (16,), generator=g)) for _ in range(6)
    ]
    lrs = [0.05, 0.05, 0.05, 0.005, 0.005, 0.0005]
    ours, theirs = (make_model(Run("simplified", "residual", 5, "hmwi", 1), dtype=dtype) for _ in range(2))
    steps(ours, MomentumSGD(list(ours.parameters()), lr=lrs[0], momentum=momentum), batches, lrs)
    steps(theirs, torch.optim.SGD(theirs.parameters(), lr=lrs[0], momentum=momentum), batches, lrs)
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert torch.equal(a, b), name


def test_a_torch_sgd_state_resumes_bit_for_bit():
    """A checkpoint written with torch.optim.SGD's state dict carries on as if never interrupted."""
    g = torch.Generator().manual_seed(1)
    batches = [(torch.randn(8, 3, 32, 32, generator=g), torch.randint(10, (8,), generator=g)) for _ in range(4)]
    ours, theirs = (make_model(Run("simplified", "plain", 5, "kwi", 2)) for _ in range(2))
    torch_opt = torch.optim.SGD(theirs.parameters(), lr=0.02, momentum=0.9)
    steps(theirs, torch_opt, batches[:2], [0.02] * 2)
    ours.load_state_dict(theirs.state_dict())
    resumed = MomentumSGD(list(ours.parameters()), lr=0.02, momentum=0.9)
    resumed.load_state_dict(torch_opt.state_dict())
    steps(ours, resumed, batches[2:], [0.02] * 2)
    steps(theirs, torch_opt, batches[2:], [0.02] * 2)
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))


def test_a_training_step_does_not_import_the_compiler_stack(tmp_path):
    """torch.optim.SGD pulls in torch._dynamo (seconds of every job's start); the engine's eager step does not."""
    code = (
        "import sys, torch; from pathlib import Path; from plainres.data import save_cached, synthetic\n"
        "from plainres.train import Run, TrainConfig, train_group\n"
        f"d = Path({str(tmp_path)!r}); save_cached(synthetic(64, 16), {{}}, 'cifar10', d / 'd.pt', d / 'd.json')\n"
        "train_group([Run('simplified', 'residual', 5, 'hmwi', 0)], TrainConfig(epochs=1, lr=0.1, batch_size=32),"
        " d / 'd.pt', [d / 'run'], d / 'group', device='cpu')\n"
        "print('torch._dynamo' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
