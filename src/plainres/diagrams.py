"""YT Figs 4 and 5 (and Fig 1): architecture and block diagrams drawn from the model objects.

`describe` traces the model's real forward computation with torch.fx (convolutions, Taps and the
option-A `shortcut` stay single calls) and pushes a dummy input through it, so every box, channel
count, stride, feature-map size and identity arc comes from the model: change models.py and the
drawings change with it. Taps, flatten and the shortcut itself are not boxes; the shortcut becomes
the identity arc into its ⊕.
"""

from __future__ import annotations

import copy
import operator

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyBboxPatch, Patch, Rectangle
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from . import models
from .figures import PLAIN, RESIDUAL

MAJOR = ("input", "conv", "pool", "fc", "output")  # a box of its own row; bn, add, relu hang below a conv
MINOR_ORDER = ("bn", "add", "relu")
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
_PASS_METHODS = ("flatten", "view", "reshape", "contiguous")


class _Tracer(fx.Tracer):
    """Convolutions (masked ones too) and Taps stay leaves; `shortcut` stays one call."""

    def __init__(self):
        super().__init__(autowrap_functions=(models.shortcut,))

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, (nn.Conv2d, models.Tap)) or super().is_leaf_module(m, qualname)


def trace(model: nn.Module) -> fx.GraphModule:
    """The model's forward as an fx graph module; it computes exactly what the model computes."""
    return fx.GraphModule(model, _Tracer().trace(model))


def _kind(n: fx.Node, model: nn.Module) -> str | None:
    """What a graph node is drawn as; None for pass-throughs (Taps, flatten, the shortcut)."""
    if n.op in ("placeholder", "output"):
        return "input" if n.op == "placeholder" else "output"
    if n.op == "call_module":
        m = model.get_submodule(n.target)
        for cls, kind in (
            (nn.Identity, None),
            (nn.Flatten, None),
            (nn.Conv2d, "conv"),
            (nn.BatchNorm2d, "bn"),
            (nn.ReLU, "relu"),
            (nn.Linear, "fc"),
            ((nn.AdaptiveAvgPool2d, nn.AvgPool2d), "pool"),
        ):
            if isinstance(m, cls):
                return kind
    if n.op == "call_function":
        if n.target is models.shortcut or n.target is torch.flatten:
            return None
        for targets, kind in (
            ((F.relu, torch.relu), "relu"),
            ((operator.add, torch.add), "add"),
            ((F.adaptive_avg_pool2d, F.avg_pool2d), "pool"),
        ):
            if n.target in targets:
                return kind
    if n.op == "call_method" and n.target in _PASS_METHODS:
        return None
    raise ValueError(f"describe: no drawing for {n.op} {n.target!r} (graph node {n.name})")


def _block_of(n: fx.Node) -> str:
    """The outermost non-container module the node runs inside ('' at the top level or for a leaf there)."""
    for path, value in (n.meta.get("nn_module_stack") or {}).items():
        cls = value[1] if isinstance(value, tuple) else value
        if isinstance(cls, type) and issubclass(cls, _CONTAINERS):
            continue
        return "" if (n.op == "call_module" and path == n.target) else path
    return ""


def _shape(n: fx.Node) -> tuple[int, ...]:
    meta = n.meta.get("tensor_meta")
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else ()


def describe(model: nn.Module, input_shape=(1, 3, 32, 32)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(nodes, edges) of the model's computation, shapes from one dummy input of `input_shape`.

    nodes: id (forward order), name (fx), kind (input/conv/bn/relu/add/pool/fc/output), module, block,
    group (G<channels> for blocks, '' outside), layer (weight layers so far; the stem conv is layer 1),
    label, c_in, c_out, kernel, stride, bias, free (fraction of kernel entries not masked, T′),
    C, H, W (the node's output). edges: src, dst, kind (main/identity), via ('shortcut' when the identity
    is the option-A shortcut), subsample (H_src/H_dst) and pad_channels (C_dst − C_src, zeros).
    The model is copied and put in eval mode for the dummy pass, so its BN statistics stay untouched.
    """
    model = copy.deepcopy(model).eval()
    gm = trace(model)
    dtype = next((p.dtype for p in model.parameters()), torch.float32)
    with torch.no_grad():
        ShapeProp(gm).propagate(torch.zeros(input_shape, dtype=dtype))

    nodes, edges, rep, via, layer = [], [], {}, {}, 0
    for n in gm.graph.nodes:
        kind, inputs = _kind(n, model), n.all_input_nodes
        if kind is None:  # a pass-through stands for the drawn node it reads
            rep[n] = rep[inputs[0]]
            via[n] = "shortcut" if n.target is models.shortcut else via.get(inputs[0], "")
            continue
        shape, in_shape = _shape(n), (_shape(inputs[0]) if inputs else ())
        row = {
            "id": len(nodes),
            "name": n.name,
            "kind": kind,
            "module": n.target if n.op == "call_module" else "",
            "block": _block_of(n),
            "c_in": in_shape[1] if len(in_shape) > 1 else pd.NA,
            "c_out": shape[1] if len(shape) > 1 else pd.NA,
            "kernel": pd.NA,
            "stride": pd.NA,
            "bias": pd.NA,
            "free": pd.NA,
            "C": shape[1] if len(shape) > 1 else pd.NA,
            "H": shape[2] if len(shape) == 4 else pd.NA,
            "W": shape[3] if len(shape) == 4 else pd.NA,
        }
        if kind in ("conv", "fc", "bn"):
            row.update(_module_fields(kind, model.get_submodule(n.target)))
            layer += kind != "bn"
        if kind == "pool" and len(in_shape) == 4:
            row.update(kernel=in_shape[2] // shape[2])
        row.update(layer=layer, label=_label(row))
        edges += _edges_into(row, [(rep[a], via.get(a, "")) for a in inputs], nodes)
        rep[n] = row["id"]
        nodes.append(row)

    nodes = pd.DataFrame(nodes)
    groups = {b: f"G{nodes[nodes.block == b].C.iloc[-1]}" for b in nodes.block if b}  # by output width
    nodes["group"] = nodes.block.map(lambda b: groups.get(b, ""))
    return nodes[NODE_COLUMNS], pd.DataFrame(edges, columns=EDGE_COLUMNS)


NODE_COLUMNS = "id name kind module block group layer label c_in c_out kernel stride bias free C H W".split()
EDGE_COLUMNS = ["src", "dst", "kind", "via", "subsample", "pad_channels"]


def _module_fields(kind: str, m: nn.Module) -> dict:
    """What a conv, FC or BN module adds to its node: channels, and a conv's kernel, stride, bias and free entries."""
    if kind == "conv":
        mask = getattr(m, "mask", None)
        return {
            "c_in": m.in_channels,
            "c_out": m.out_channels,
            "kernel": m.kernel_size[0],
            "stride": m.stride[0],
            "bias": m.bias is not None,
            "free": 1.0 if mask is None else float(mask.float().mean()),
        }
    if kind == "fc":
        return {"c_in": m.in_features, "c_out": m.out_features, "bias": m.bias is not None}
    return {"c_in": m.num_features, "c_out": m.num_features}


def _edges_into(row: dict, srcs: list[tuple[int, str]], nodes: list[dict]) -> list[dict]:
    """The edges into a node from the drawn nodes it reads (id, 'shortcut' or ''): into an add, the identity is the
    one through the option-A shortcut, or else the older input; the others are the main path."""
    newest = max((s for s, _ in srcs), default=None)
    edges = []
    for src, how in srcs:
        identity = row["kind"] == "add" and (how == "shortcut" or (src < newest and not any(h for _, h in srcs)))
        s_shape = nodes[src]
        edges.append(
            {
                "src": src,
                "dst": row["id"],
                "kind": "identity" if identity else "main",
                "via": how,
                "subsample": (s_shape["H"] // row["H"]) if identity and not pd.isna(row["H"]) else 1,
                "pad_channels": (row["C"] - s_shape["C"]) if identity else 0,
            }
        )
    return edges


def _label(row: dict) -> str:
    kind = row["kind"]
    if kind == "input":
        return f"input {row['H']}×{row['W']}×{row['C']}" if not pd.isna(row["H"]) else f"input, {row['C']}"
    if kind == "conv":
        text = f"{row['kernel']}×{row['kernel']} conv, {row['c_out']}"
        text += f", /{row['stride']}" if row["stride"] > 1 else ""
        return text + (", T′" if row["free"] < 1 else "")
    if kind == "pool":
        return f"avg pool {row['kernel']}×{row['kernel']}" if not pd.isna(row["kernel"]) else "avg pool"
    if kind == "fc":
        return f"fc, {row['c_out']}"
    if kind == "output":
        return f"output, {row['C']}"
    return {"bn": "BN", "relu": "relu", "add": "+"}[kind]


def formula(nodes: pd.DataFrame, edges: pd.DataFrame) -> str:
    """The output as an expression of the input x, read off the graph (YT §2: y = f(x + p(x))).

    Meant for blocks: a whole residual net expands every identity twice.
    """
    kinds = dict(zip(nodes.id, nodes.kind))

    def expr(i: int) -> str:
        if kinds[i] == "input":
            return "x"
        into = edges[edges.dst == i]
        if kinds[i] == "add":
            parts = []
            for e in sorted(into.itertuples(), key=lambda e: e.kind != "identity"):
                inner = expr(e.src)
                parts.append(
                    f"shortcut({inner})" if e.kind == "identity" and (e.subsample > 1 or e.pad_channels) else inner
                )
            return " + ".join(parts)
        inner = ", ".join(expr(s) for s in into.src)
        return inner if kinds[i] == "output" else f"{kinds[i]}({inner})"

    return "y = " + expr(int(nodes.id[nodes.kind == "output"].iloc[0]))


# ---------------------------------------------------------------- layout


def _rows(columns: list[pd.DataFrame], minor_pitch: float) -> list[dict[int, float]]:
    """y of every node (top = 0, downwards) for side-by-side columns, aligned layer by layer: the i-th
    major box of every column sits at the same height, and a minor node (bn, ⊕, relu) takes the slot of
    its kind in a template shared by the columns, so the plain relu sits level with the residual relu."""
    groups = []
    for nodes in columns:
        g = []
        for row in nodes.itertuples():
            if row.kind in MAJOR or not g:
                g.append((row.id, []))
            else:
                g[-1][1].append((row.id, row.kind))
        groups.append(g)
    ys = [{} for _ in columns]
    y = 0.0
    for i in range(max(len(g) for g in groups)):
        present = [g[i] for g in groups if i < len(g)]
        template = max((tuple(k for _, k in minors) for _, minors in present), key=len)
        for c, g in enumerate(groups):
            if i >= len(g):
                continue
            major, minors = g[i]
            ys[c][major] = y
            slots, j = [], 0
            for _, k in minors:  # greedy subsequence match into the template, else sequential
                while j < len(template) and template[j] != k:
                    j += 1
                slots.append(j if j < len(template) else None)
                j += 1
            if None in slots:
                slots = list(range(len(minors)))
            for (node, _), s in zip(minors, slots):
                ys[c][node] = y + 1.0 + s * minor_pitch
        y += 1.0 + len(template) * minor_pitch + 0.35
    return [{k: -v for k, v in col.items()} for col in ys]


_SIZE = {
    "input": (5.2, 0.72),
    "conv": (5.6, 0.72),
    "pool": (5.2, 0.72),
    "fc": (5.2, 0.72),
    "output": (5.2, 0.72),
    "bn": (2.2, 0.5),
    "relu": (2.2, 0.5),
    "add": (0.56, 0.56),
}


def _draw_column(
    ax,
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    ys: dict[int, float],
    color: str,
    labels: dict[int, str] | None = None,
    fontsize: float = 6.5,
    arc_x: float = 4.0,
):
    """Boxes top to bottom, main arrows between them, identity arcs on the right; returns the drawn rows."""
    labels = labels or {}
    fills = {"conv": 0.16, "bn": 0.05, "pool": 0.05, "fc": 0.05, "input": 0.0, "output": 0.0, "relu": 0.0}
    drawn = []
    for row in nodes.itertuples():
        w, h = _SIZE[row.kind]
        y = ys[row.id]
        text = labels.get(row.id, row.label)
        if row.kind == "add":
            ax.add_patch(Circle((0, y), w / 2, fc="white", ec=color, lw=0.9, zorder=3))
            ax.text(0, y, "+", ha="center", va="center_baseline", fontsize=fontsize + 1.5, zorder=4)
        else:
            face = to_rgba("0.3" if row.kind in ("bn", "pool", "fc") else color, fills.get(row.kind, 0.0))
            ax.add_patch(
                FancyBboxPatch(
                    (-w / 2, y - h / 2),
                    w,
                    h,
                    boxstyle="round,pad=0,rounding_size=0.18",
                    fc=to_rgba("white", 1.0) if face[3] == 0 else face,
                    ec=color if row.kind in ("conv", "input", "output") else "0.35",
                    lw=0.9 if row.kind == "conv" else 0.6,
                    zorder=3,
                )
            )
            ax.text(0, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)
        drawn.append({"element": "node", "id": row.id, "x": 0.0, "y": y, "text": text})
    for e in edges.itertuples():
        y0, y1 = ys[e.src], ys[e.dst]
        h0, h1 = _SIZE[nodes.kind[e.src]][1], _SIZE[nodes.kind[e.dst]][1]
        if e.kind == "main":
            ax.annotate(
                "",
                xy=(0, y1 + h1 / 2),
                xytext=(0, y0 - h0 / 2),
                zorder=2,
                arrowprops={
                    "arrowstyle": "-|>",
                    "lw": 0.6,
                    "color": "0.2",
                    "mutation_scale": 6,
                    "shrinkA": 0,
                    "shrinkB": 0,
                },
            )
        else:
            style = "-" if (e.subsample == 1 and e.pad_channels == 0) else "--"
            x0 = _SIZE[nodes.kind[e.src]][0] / 2
            ax.plot([x0, arc_x, arc_x], [y0, y0, y1], style, color=RESIDUAL, lw=1.0, zorder=2)
            ax.annotate(
                "",
                xy=(_SIZE["add"][0] / 2, y1),
                xytext=(arc_x, y1),
                zorder=2,
                arrowprops={
                    "arrowstyle": "-|>",
                    "lw": 1.0,
                    "ls": style,
                    "color": RESIDUAL,
                    "mutation_scale": 7,
                    "shrinkA": 0,
                    "shrinkB": 0,
                },
            )
            if style == "--":
                ax.text(
                    arc_x + 0.25,
                    (y0 + y1) / 2,
                    f"x[::{e.subsample}]\n+{e.pad_channels} zero ch.",
                    fontsize=fontsize - 1,
                    color=RESIDUAL,
                    va="center",
                    ha="left",
                )
        drawn.append({"element": "edge", "src": e.src, "dst": e.dst, "x": 0.0, "y": y1})
    return drawn


def _groups(ax, nodes: pd.DataFrame, ys: dict[int, float], x_left: float, x_right: float, fontsize: float):
    """Shade and name each group (G16, G32, G64) with its feature-map size; returns the group rows."""
    rows = []
    for k, (group, part) in enumerate((g, nodes[nodes.group == g]) for g in dict.fromkeys(nodes.group) if g):
        top = max(ys[i] + _SIZE[kind][1] / 2 for i, kind in zip(part.id, part.kind)) + 0.25
        bottom = min(ys[i] - _SIZE[kind][1] / 2 for i, kind in zip(part.id, part.kind)) - 0.25
        ax.add_patch(
            Rectangle(
                (x_left, bottom),
                x_right - x_left,
                top - bottom,
                fc="0.5",
                alpha=0.07 + 0.05 * (k % 2),
                ec="none",
                zorder=0,
            )
        )
        last = part.iloc[-1]
        n_blocks = part.block.nunique()
        ax.text(
            x_left + 0.15,
            (top + bottom) / 2,
            f"${group[0]}_{{{group[1:]}}}$\n{n_blocks} blocks\n{last.H}×{last.W}",
            fontsize=fontsize,
            ha="left",
            va="center",
            rotation=0,
        )
        rows.append(
            {
                "element": "group",
                "group": group,
                "blocks": n_blocks,
                "C": last.C,
                "H": last.H,
                "W": last.W,
                "y_top": top,
                "y_bottom": bottom,
            }
        )
    return rows


def _frame(
    net: str, nodes: pd.DataFrame, edges: pd.DataFrame, drawn: list[dict], groups: list[dict], **columns
) -> pd.DataFrame:
    node_rows = nodes.merge(pd.DataFrame([d for d in drawn if d["element"] == "node"]), on="id")
    edge_rows = edges.merge(pd.DataFrame([d for d in drawn if d["element"] == "edge"]), on=["src", "dst"])
    edge_rows = edge_rows.rename(columns={"kind": "edge_kind"})
    frame = pd.concat([node_rows, edge_rows, pd.DataFrame(groups)], ignore_index=True)
    frame = frame.convert_dtypes()  # integer columns stay integers beside the edge and group rows
    first = ["net", *columns, "element"]
    return frame.assign(net=net, **columns)[first + [c for c in frame.columns if c not in first]]


def _setup(ax, y_min: float, x_left: float, x_right: float):
    ax.set_xlim(x_left, x_right)
    ax.set_ylim(y_min - 0.8, 0.8)
    ax.set_aspect("equal")
    ax.axis("off")


# ---------------------------------------------------------------- YT Fig 4


def yt_fig4(plain_model: nn.Module, residual_model: nn.Module, input_shape=(1, 3, 32, 32), title: str = ""):
    """YT Fig. 4: the whole plain net beside the residual net, every layer from the model objects."""
    nets = (("plain", plain_model, PLAIN), ("residual", residual_model, RESIDUAL))
    described = [describe(m, input_shape) for _, m, _ in nets]
    ys = _rows([n for n, _ in described], minor_pitch=0.78)
    y_min = min(min(y.values()) for y in ys)
    x_left, x_right, unit = -6.2, 7.6, 0.2
    fig, axes = plt.subplots(
        1,
        2,
        figsize=(2 * (x_right - x_left) * unit + 0.4, (-y_min + 1.6) * unit + 1.4),
        constrained_layout=True,
        sharey=True,
    )
    frames = []
    for ax, (net, model, color), (nodes, edges), y in zip(axes, nets, described, ys):
        _setup(ax, y_min, x_left, x_right)
        groups = _groups(ax, nodes, y, x_left, 3.3, 6)
        drawn = _draw_column(ax, nodes, edges, y, color)
        weight_layers = int(nodes.kind.isin(["conv", "fc"]).sum())
        n_id = int((edges.kind == "identity").sum())
        letter = "a" if net == "plain" else "b"
        ax.set_title(
            f"({letter}) {net} net: L = {weight_layers} weight layers,\n"
            f"{models.count_parameters(model):,} weights, {n_id} identity connections",
            fontsize=8,
            color=color,
        )
        frames.append(_frame(net, nodes, edges, drawn, groups))
    handles = [
        Patch(fc=to_rgba(PLAIN, 0.16), ec=PLAIN, label="plain layer"),
        Patch(fc=to_rgba(RESIDUAL, 0.16), ec=RESIDUAL, label="residual layer"),
        Line2D([], [], color=RESIDUAL, ls="-", label="identity x → ⊕"),
        Line2D([], [], color=RESIDUAL, ls="--", label="identity subsampled /2, zero-padded (option A)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=7, frameon=False)
    fig.suptitle(title or "YT Fig. 4: plain and residual architectures (drawn from the model objects)", fontsize=9)
    return fig, pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- YT Fig 5 (and Fig 1)


def block_input_shape(block: nn.Module, size: int) -> tuple[int, int, int, int]:
    """(1, c_in, size, size) with c_in the in-channels of the block's first convolution."""
    conv = next(m for m in block.modules() if isinstance(m, nn.Conv2d))
    return (1, conv.in_channels, size, size)


def yt_fig5(plain_blocks, residual_blocks, row_titles=None, size: int = 32):
    """YT Fig. 5 (= Fig. 1): plain y = relu(p(x)) beside residual y = relu(x + p(x)), one row per block pair.

    `plain_blocks`, `residual_blocks`: a block module each, or equal-length lists of them; each is
    traced on a 1×c_in×size×size input.
    """
    if isinstance(plain_blocks, nn.Module):
        plain_blocks, residual_blocks = [plain_blocks], [residual_blocks]
    if len(plain_blocks) != len(residual_blocks):
        raise ValueError("yt_fig5: need as many plain blocks as residual blocks")
    row_titles = row_titles or [type(b).__name__ for b in plain_blocks]
    pairs = [[("plain", b, PLAIN), ("residual", r, RESIDUAL)] for b, r in zip(plain_blocks, residual_blocks)]
    described = [[describe(m, block_input_shape(m, size)) for _, m, _ in pair] for pair in pairs]
    layouts = [_rows([n for n, _ in row], minor_pitch=0.9) for row in described]
    y_mins = [min(min(y.values()) for y in row) for row in layouts]
    x_left, x_right, unit = -3.4, 5.4, 0.26
    heights = [-y + 1.6 for y in y_mins]
    fig = plt.figure(
        figsize=(2 * (x_right - x_left) * unit + 0.3, sum(heights) * unit + 0.85 * len(pairs) + 0.4),
        constrained_layout=True,
    )
    subfigs = fig.subfigures(len(pairs), 1, height_ratios=heights, squeeze=False)[:, 0]
    frames = []
    for r, (sub, pair, row, ys, y_min, title) in enumerate(zip(subfigs, pairs, described, layouts, y_mins, row_titles)):
        sub.suptitle(title, fontsize=8.5)
        for c, (ax, (net, _, color), (nodes, edges), y) in enumerate(zip(sub.subplots(1, 2), pair, row, ys)):
            _setup(ax, y_min, x_left, x_right)
            ends = {
                int(nodes.id[nodes.kind == "input"].iloc[0]): "x",
                int(nodes.id[nodes.kind == "output"].iloc[0]): "y",
            }
            drawn = _draw_column(ax, nodes, edges, y, color, labels=ends, fontsize=7.5, arc_x=3.6)
            for e in edges[edges.kind == "identity"].itertuples():
                ax.text(
                    3.8,
                    (y[e.src] + y[e.dst]) / 2,
                    "identity x",
                    color=RESIDUAL,
                    fontsize=7,
                    rotation=90,
                    va="center",
                    ha="left",
                )
            text = formula(nodes, edges)
            ax.set_title(f"({'abcdefghijklmnop'[2 * r + c]}) {net} block\n{text}", fontsize=7.5, color=color)
            frames.append(_frame(net, nodes, edges, drawn, [], row=title).assign(formula=text))
    fig.suptitle("YT Fig. 5 (= Fig. 1): plain vs residual blocks, from the model objects", fontsize=9)
    return fig, pd.concat(frames, ignore_index=True)


def fig5_blocks(archs, depth: int, block: int = 0):
    """(plain blocks, residual blocks, row titles): block `block` of build_model(arch, net, depth) per arch."""
    plain = [models.build_model(a, "plain", depth).blocks[block] for a in archs]
    residual = [models.build_model(a, "residual", depth).blocks[block] for a in archs]
    return plain, residual, [f"{a} (depth {depth}, block {block})" for a in archs]
