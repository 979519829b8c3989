import math

import pytest
import torch

from plainres.init import initialise
from plainres.models import FullyFledgedNet, SimplifiedNet, group_plan
from plainres.transfer import weight_penalty


def conv_shapes(depth):
    """(C, D) of every conv layer of a simplified net: the stem, then the 3N blocks."""
    return [(3, 16)] + [(c_in, c_out) for c_in, c_out, _ in group_plan(depth)]


def expected_sum_of_squares(depth, init):
    """E and Var of ‖w‖² at initialisation, layer by layer, from the closed forms.

    A conv layer has n = 9·C·D weights ~ N(0, σ²) with σ² = 2/(9C) (KWI) or 1/(9C)² (HMWI):
    E = nσ², Var = 2nσ⁴. The FC layer's 640 weights ~ U(−1/8, 1/8): E = 640/192, Var = 640·4/(45·8⁴).
    """
    mean = var = 0.0
    for c, d in conv_shapes(depth):
        n = 9 * c * d
        s2 = 2 / (9 * c) if init == "kwi" else 1 / (9 * c) ** 2
        mean += n * s2
        var += 2 * n * s2**2
    b = 1 / 8
    return mean + 640 * b**2 / 3, var + 640 * 4 * b**4 / 45


def test_kwi_depth20_conv_expectation_is_1376():
    mean, _ = expected_sum_of_squares(20, "kwi")
    assert mean == pytest.approx(1376 + 10 / 3)


@pytest.mark.parametrize("depth", [20, 32, 44])
@pytest.mark.parametrize("init,residual", [("kwi", False), ("hmwi", True)])
def test_sum_of_squared_weights_matches_its_expectation(depth, init, residual):
    mean, var = expected_sum_of_squares(depth, init)
    for seed in range(3):
        net = initialise(SimplifiedNet(depth, residual), init, seed)
        total = weight_penalty(net).item()
        assert abs(total - mean) < 4.5 * math.sqrt(var), (seed, total, mean, math.sqrt(var))


@pytest.mark.parametrize("depth,paper", [(20, 0.0005393), (32, 0.0008878), (44, 0.001238)])
def test_kwi_weight_regularisation_agrees_with_yt_table4(depth, paper):
    """YT Table 4 reports (λ/2)·‖w‖²/128 before training; λ = 1e-4."""
    mean, var = expected_sum_of_squares(depth, "kwi")
    as_sum = paper * 128 * 2 / 1e-4
    assert abs(as_sum - mean) < 3 * math.sqrt(var)


@pytest.mark.parametrize("init,std_of", [("kwi", lambda s: math.sqrt(2 / s)), ("hmwi", lambda s: 1 / s)])
def test_each_layer_has_its_equation_std_and_zero_biases(init, std_of):
    net = initialise(SimplifiedNet(20, residual=init == "hmwi"), init, seed=1)
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            s = m.in_channels * 9
            assert m.weight.std().item() == pytest.approx(std_of(s), rel=0.1)
            assert abs(m.weight.mean().item()) < 4 * std_of(s) / math.sqrt(m.weight.numel())
            assert (m.bias == 0).all()
    assert net.fc.weight.abs().max() <= 1 / 8


def test_init_is_a_function_of_the_seed():
    a = initialise(SimplifiedNet(8, True), "hmwi", 5).state_dict()
    b = initialise(SimplifiedNet(8, True), "hmwi", 5).state_dict()
    c = initialise(SimplifiedNet(8, True), "hmwi", 6).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["stem.weight"], c["stem.weight"])


def test_fully_fledged_init_resets_batch_norm_and_refuses_unknown_inits():
    net = initialise(FullyFledgedNet(20, True), "kwi", 0)
    assert (net.stem_bn.weight == 1).all() and (net.stem_bn.bias == 0).all()
    with pytest.raises(ValueError, match="init"):
        initialise(net, "xavier", 0)
