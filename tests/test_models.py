import pytest
import torch

from plainres.init import initialise
from plainres.models import (
    FullyFledgedNet,
    SimplifiedNet,
    build_model,
    count_parameters,
    dominant_path_mask,
    group_plan,
    multiply_adds,
    tapped,
)


def simplified_count_by_hand(n: int) -> int:
    """Weights + biases of a depth-(3N+2) simplified net, layer by layer (YT SM A)."""
    stem = 3 * 16 * 9 + 16
    g16 = n * (16 * 16 * 9 + 16)
    g32 = (16 * 32 * 9 + 32) + (n - 1) * (32 * 32 * 9 + 32)
    g64 = (32 * 64 * 9 + 64) + (n - 1) * (64 * 64 * 9 + 64)
    fc = 64 * 10 + 10
    return stem + g16 + g32 + g64 + fc


@pytest.mark.parametrize("depth,count", [(20, 269_034), (32, 463_018), (44, 657_002)])
def test_plain_and_residual_twins_have_the_hand_counted_parameters(depth, count):
    assert simplified_count_by_hand((depth - 2) // 3) == count
    assert count_parameters(SimplifiedNet(depth, residual=False)) == count
    assert count_parameters(SimplifiedNet(depth, residual=True)) == count


@pytest.mark.parametrize("depth,millions", [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)])
def test_fully_fledged_parameter_counts_match_he_et_al_table6(depth, millions):
    for residual in (True, False):
        count = count_parameters(FullyFledgedNet(depth, residual))
        digits = 1 if millions >= 1 else 2
        assert round(count / 1e6, digits) == millions


@pytest.mark.parametrize("depth", [5, 8, 20])
def test_simplified_shapes_strides_and_depth(depth):
    net = SimplifiedNet(depth, residual=True)
    n = (depth - 2) // 3
    plan = group_plan(depth)
    assert len(plan) == 3 * n
    assert [s for _, _, s in plan].count(2) == 2
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) + 1 == depth  # 3N+1 conv layers + the FC layer
    with tapped(net) as acts:
        out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    assert acts["final"].shape == (2, 64)
    assert acts[f"blocks.{3 * n - 1}.post"].shape == (2, 64, 8, 8)
    assert sum(1 for k in acts if k.endswith("post")) == 3 * n + 1


def test_bad_depths_are_refused():
    with pytest.raises(ValueError, match="3N\\+2"):
        SimplifiedNet(21, residual=True)
    with pytest.raises(ValueError, match="6n\\+2"):
        FullyFledgedNet(21, residual=True)
    with pytest.raises(ValueError, match="arch"):
        build_model("wide", "plain", 20)


def test_stride2_identity_is_subsampled_input_on_first_channels():
    """With a zero kernel and zero bias, a channel-doubling residual block outputs relu(x[::2, ::2]) padded."""
    net = SimplifiedNet(5, residual=True)
    block = net.blocks[1]
    assert (block.c_in, block.c_out, block.stride) == (16, 32, 2)
    torch.nn.init.zeros_(block.conv.weight)
    torch.nn.init.zeros_(block.conv.bias)
    x = torch.randn(3, 16, 16, 16)
    y = block(x)
    assert torch.equal(y[:, :16], torch.relu(x[:, :, ::2, ::2]))
    assert torch.equal(y[:, 16:], torch.zeros(3, 16, 8, 8))


def test_tapped_reads_every_tap_and_leaves_no_hooks():
    net = FullyFledgedNet(20, residual=True)
    with tapped(net, kinds=("pre",)) as acts:
        net(torch.randn(2, 3, 32, 32))
    assert len(acts) == 19  # stem + two per block
    with tapped(net, kinds=("final",), grad=True) as acts:
        net(torch.randn(2, 3, 32, 32)).sum().backward()
    assert acts["final"].grad.shape == (2, 64)
    assert all(not m._forward_hooks for m in net.modules())


def test_dominant_path_mask_is_diagonal_and_doubling_is_two_stacked_diagonals():
    square = dominant_path_mask(4, 4)[:, :, 1, 1]
    assert torch.equal(square, torch.eye(4, dtype=torch.bool))
    doubling = dominant_path_mask(4, 8)[:, :, 1, 1]
    assert torch.equal(doubling, torch.cat([torch.eye(4), torch.eye(4)]).bool())
    full_lower = dominant_path_mask(4, 8, full_lower=True)[:, :, 1, 1]
    assert full_lower[4:].all() and torch.equal(full_lower[:4], torch.eye(4, dtype=torch.bool))


@pytest.mark.parametrize("paths", ["dominant", "dominant-full-lower"])
def test_dominant_nets_keep_weights_and_gradients_on_their_paths(paths):
    net = initialise(SimplifiedNet(8, residual=True, paths=paths), "hmwi", seed=0)
    net(torch.randn(4, 3, 32, 32)).square().sum().backward()
    for block in net.blocks:
        off = ~block.conv.mask
        assert (block.conv.weight[off] == 0).all()
        assert (block.conv.weight.grad[off] == 0).all()
        assert (block.conv.weight[block.conv.mask] != 0).all()
    # full stem and FC; one 3×3 kernel + bias per output channel of every block
    expected = 448 + sum(9 * c_out + c_out for _, c_out, _ in group_plan(8)) + 650
    if paths == "dominant-full-lower":  # lower halves of the 16→32 and 32→64 kernels are full
        expected += 9 * (16 * 16 - 16) + 9 * (32 * 32 - 32)
    assert count_parameters(net) == expected


def test_float64_models_run_in_float64():
    net = SimplifiedNet(8, residual=False).double()
    assert net(torch.randn(1, 3, 32, 32, dtype=torch.float64)).dtype == torch.float64


def multiply_adds_by_hand(depth: int, arch: str) -> int:
    """Convolutions at 32², 16², 8² (3·3 kernels) and the FC layer, summed layer by layer."""
    per_group = (depth - 2) // 3 if arch == "simplified" else 2 * (depth - 2) // 6  # convs per group
    stem = 32 * 32 * 16 * 3 * 9
    g16 = per_group * 32 * 32 * 16 * 16 * 9
    g32 = 16 * 16 * 32 * 16 * 9 + (per_group - 1) * 16 * 16 * 32 * 32 * 9
    g64 = 8 * 8 * 64 * 32 * 9 + (per_group - 1) * 8 * 8 * 64 * 64 * 9
    return stem + g16 + g32 + g64 + 64 * 10


@pytest.mark.parametrize(
    "arch,depth",
    [
        ("simplified", 5),
        ("simplified", 20),
        ("simplified", 110),
        ("fully-fledged", 8),
        ("fully-fledged", 32),
        ("fully-fledged", 110),
    ],
)
def test_multiply_adds_equal_the_layer_by_layer_count(arch, depth):
    for net in ("plain", "residual"):
        assert multiply_adds(build_model(arch, net, depth)) == multiply_adds_by_hand(depth, arch)
    assert multiply_adds_by_hand(20, "simplified") == 40_551_040  # He et al.'s ResNet-20: ≈ 41 million


def test_a_masked_kernel_costs_what_a_dense_one_does():
    assert multiply_adds(build_model("dominant", "residual", 20)) == multiply_adds(
        build_model("simplified", "plain", 20)
    )
