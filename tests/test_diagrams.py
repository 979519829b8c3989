"""YT Figs 4 and 5: the described structure is the models' structure, and follows the models when they change."""

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.patches import Circle
from torch import nn

from plainres import diagrams, models

SMALLEST = {"simplified": 5, "dominant": 5, "dominant-full-lower": 5, "fully-fledged": 8}


def convs(model):
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize("arch", models.ARCHS)
@pytest.mark.parametrize("net", ["plain", "residual"])
def test_traced_graph_computes_the_model(arch, net):
    model = models.build_model(arch, net, SMALLEST[arch]).double().eval()
    x = torch.randn(4, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(diagrams.trace(model)(x), model(x))


@pytest.mark.parametrize("depth", [8, 20])
@pytest.mark.parametrize("net", ["plain", "residual"])
def test_simplified_structure_matches_modules(depth, net):
    model = models.build_model("simplified", net, depth)
    nodes, edges = diagrams.describe(model)
    conv = nodes[nodes.kind == "conv"]
    modules = convs(model)
    assert len(conv) == len(modules) == depth - 1
    assert list(conv.module) == [name for name, _ in modules]
    for row, (_, m) in zip(conv.itertuples(), modules):
        assert (row.c_in, row.c_out, row.kernel, row.stride, row.bias) == (
            m.in_channels,
            m.out_channels,
            m.kernel_size[0],
            m.stride[0],
            m.bias is not None,
        )
    # the shapes the dummy input took agree with the attributes: C = c_out, H_in / H_out = stride
    assert list(conv.C) == list(conv.c_out)
    h_in = [nodes.H[edges.src[(edges.dst == i) & (edges.kind == "main")].iloc[0]] for i in conv.id]
    assert [a // b for a, b in zip(h_in, conv.H)] == list(conv.stride)
    # blocks follow the group plan, groups G16/G32/G64 of N blocks at 32², 16², 8²
    block_convs = conv[conv.block != ""]
    assert list(zip(block_convs.c_in, block_convs.c_out, block_convs.stride)) == models.group_plan(depth)
    n = (depth - 2) // 3
    for group, size in (("G16", 32), ("G32", 16), ("G64", 8)):
        part = nodes[nodes.group == group]
        assert part.block.nunique() == n and set(part.H) == {size} and set(part.W) == {size}
    assert list(nodes.kind[nodes.kind.isin(["pool", "fc"])]) == ["pool", "fc"]
    assert int(nodes.kernel[nodes.kind == "pool"].iloc[0]) == 8
    # identities: one per residual block, none in the plain net
    adds, ident = nodes[nodes.kind == "add"], edges[edges.kind == "identity"]
    assert len(adds) == len(ident) == (3 * n if net == "residual" else 0)
    for e in ident.itertuples():
        block = nodes.block[e.dst]
        block_conv = block_convs[block_convs.block == block].iloc[0]
        feeding = edges.src[(edges.dst == block_conv.id) & (edges.kind == "main")].iloc[0]
        assert e.src == feeding and nodes.kind[e.src] == "relu"  # it leaves from the block's input x
        assert e.via == "shortcut"
        assert (e.subsample, e.pad_channels) == (
            (2, block_conv.c_out - block_conv.c_in) if block_conv.stride == 2 else (1, 0)
        )
    assert set(ident.pad_channels) <= {0, 16, 32}


@pytest.mark.parametrize("depth", [8, 20])
def test_fully_fledged_structure(depth):
    model = models.build_model("fully-fledged", "residual", depth)
    nodes, edges = diagrams.describe(model)
    n = (depth - 2) // 6
    assert (nodes.kind == "conv").sum() == len(convs(model)) == 6 * n + 1
    assert (nodes.kind == "bn").sum() == sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert (nodes.kind == "add").sum() == (edges.kind == "identity").sum() == 3 * n
    assert not nodes.bias[nodes.kind == "conv"].any()
    assert nodes.layer.max() == depth  # 6n + 1 convolutions and the fc


def test_description_follows_the_model(monkeypatch):
    deep, shallow = (diagrams.describe(models.build_model("simplified", "residual", d))[0] for d in (20, 8))
    assert len(deep) != len(shallow)

    before = diagrams.yt_fig4(
        models.build_model("simplified", "plain", 8), models.build_model("simplified", "residual", 8)
    )[1]
    plt.close("all")

    def no_identity(self, x):  # a residual block that forgot its identity
        return self.post(F.relu(self.pre(self.conv(x))))

    monkeypatch.setattr(models.SimplifiedBlock, "forward", no_identity)
    nodes, edges = diagrams.describe(models.build_model("simplified", "residual", 8))
    assert (nodes.kind == "add").sum() == 0 and (edges.kind == "identity").sum() == 0
    after = diagrams.yt_fig4(
        models.build_model("simplified", "plain", 8), models.build_model("simplified", "residual", 8)
    )[1]
    plt.close("all")
    res_before, res_after = before[before.net == "residual"], after[after.net == "residual"]
    assert (res_before.edge_kind == "identity").sum() == 6 and (res_after.edge_kind == "identity").sum() == 0
    assert len(res_after) < len(res_before)


def test_describe_leaves_the_model_alone():
    model = models.build_model("fully-fledged", "residual", 8)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    diagrams.describe(model)
    assert model.training
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_unknown_operation_fails_clearly():
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)

        def forward(self, x):
            return torch.sigmoid(self.conv(x))

    with pytest.raises(ValueError, match="sigmoid"):
        diagrams.describe(Odd())


def test_block_formulas():
    """YT §2: plain y = f(p(x)), residual y = f(x + p(x)), with f = relu; option A on a stride-2 block."""
    expected = {
        ("simplified", "plain"): "y = relu(conv(x))",
        ("simplified", "residual"): "y = relu(x + conv(x))",
        ("fully-fledged", "plain"): "y = relu(bn(conv(relu(bn(conv(x))))))",
        ("fully-fledged", "residual"): "y = relu(x + bn(conv(relu(bn(conv(x))))))",
    }
    for (arch, net), text in expected.items():
        block = models.build_model(arch, net, 8).blocks[0]
        assert diagrams.formula(*diagrams.describe(block, diagrams.block_input_shape(block, 32))) == text
    down = models.build_model("simplified", "residual", 5).blocks[1]  # 16 → 32 channels, stride 2
    nodes, edges = diagrams.describe(down, diagrams.block_input_shape(down, 32))
    assert diagrams.formula(nodes, edges) == "y = relu(shortcut(x) + conv(x))"
    assert edges[edges.kind == "identity"][["subsample", "pad_channels"]].values.tolist() == [[2, 16]]


def test_fig4_draws_every_layer_aligned():
    plain, residual = (models.build_model("simplified", net, 20) for net in ("plain", "residual"))
    fig, data = diagrams.yt_fig4(plain, residual)
    for net, _model, ax in zip(("plain", "residual"), (plain, residual), fig.axes):
        part = data[(data.net == net) & (data.element == "node")]
        assert (part.kind == "conv").sum() == 19 and (part.kind == "pool").sum() == 1 and (part.kind == "fc").sum() == 1
        assert list(part.text[part.kind == "conv"]) == list(part.label[part.kind == "conv"])
        assert sum(isinstance(p, Circle) for p in ax.patches) == (part.kind == "add").sum()
        assert list(data.group[(data.net == net) & (data.element == "group")]) == ["G16", "G32", "G64"]
    y = {
        net: list(data.y[(data.net == net) & (data.kind == "conv") & (data.element == "node")])
        for net in ("plain", "residual")
    }
    assert y["plain"] == y["residual"]  # conv k of both nets sits on the same row
    labels = data.label[(data.net == "plain") & (data.kind == "conv")]
    assert labels.str.contains("/2").sum() == 2
    plt.close(fig)


@pytest.mark.parametrize("arch", models.ARCHS)
def test_every_arch_draws(arch):
    depth = SMALLEST[arch]
    plain, residual = (models.build_model(arch, net, depth) for net in ("plain", "residual"))
    fig, data = diagrams.yt_fig4(plain, residual)
    assert (data[data.net == "residual"].edge_kind == "identity").sum() == 3 * (
        (depth - 2) // (6 if arch == "fully-fledged" else 3)
    )
    plt.close(fig)
    fig, data = diagrams.yt_fig5(*diagrams.fig5_blocks([arch], depth))
    assert set(data.formula) == {
        "y = " + t
        for t in (
            ("relu(conv(x))", "relu(x + conv(x))")
            if arch != "fully-fledged"
            else ("relu(bn(conv(relu(bn(conv(x))))))", "relu(x + bn(conv(relu(bn(conv(x))))))")
        )
    }
    plt.close(fig)


def test_fig5_two_rows():
    fig, data = diagrams.yt_fig5(*diagrams.fig5_blocks(["simplified", "fully-fledged"], 20))
    assert len(fig.axes) == 4 and data.row.nunique() == 2
    assert (data.edge_kind == "identity").sum() == 2
    plt.close(fig)


def test_identity_without_shortcut_is_found():
    """A hand-written x + p(x) (no `shortcut` call): the older operand of the ⊕ is the identity."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return F.relu(self.conv(x) + x)

    nodes, edges = diagrams.describe(Block(), (1, 4, 8, 8))
    ident = edges[edges.kind == "identity"]
    assert list(zip(ident.src, ident.dst)) == [(0, int(nodes.id[nodes.kind == "add"].iloc[0]))]
    assert ident.via.iloc[0] == "" and diagrams.formula(nodes, edges) == "y = relu(x + conv(x))"
