"""LW Fig. 1(d, e): the Gaussian mixture, the residual MLP of Eq. 22, its training record and figures."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from plainres import figures
from plainres.simulate import builders
from plainres.simulate.residual_mlp import (
    DEFAULTS,
    ResidualMLP,
    bayes_accuracy,
    gaussian_mixture,
    train_many,
    train_residual_mlp,
    train_together,
    weight_norm,
)

TINY = {
    "n_train": 200,
    "n_test": 100,
    "dim": 6,
    "classes": 3,
    "separation": 1.0,
    "width": 5,
    "blocks": 4,
    "epochs": 2,
    "batch_size": 50,
    "lr": 0.05,
    "momentum": 0.9,
    "record_every": 1,
    "eval_every": 2,
}


# ---------------------------------------------------------------- the mixture


def test_mixture_is_balanced_and_seeded():
    x, y, means = gaussian_mixture(1000, 7, 10, 0.5, seed=3)
    assert x.shape == (1000, 7) and x.dtype == torch.float64 and means.shape == (10, 7)
    assert torch.bincount(y, minlength=10).tolist() == [100] * 10
    again = gaussian_mixture(1000, 7, 10, 0.5, seed=3)
    assert all(torch.equal(a, b) for a, b in zip((x, y, means), again))
    other = gaussian_mixture(1000, 7, 10, 0.5, seed=4)
    assert not torch.equal(x, other[0]) and not torch.equal(means, other[2])
    counts = torch.bincount(gaussian_mixture(1003, 7, 10, 0.5, seed=3)[1], minlength=10)
    assert counts.max() - counts.min() == 1  # not divisible: counts differ by at most one


def test_mixture_distribution():
    """x − μ_y is N(0, I); the means are N(0, separation²·I); a test set can reuse the train set's means."""
    x, y, means = gaussian_mixture(40_000, 5, 4, 2.0, seed=0)
    z = x - means[y]
    assert z.mean(0).abs().max() < 0.03 and (z.std(0) - 1).abs().max() < 0.02
    _, _, many = gaussian_mixture(10, 200, 50, 2.0, seed=1)
    assert abs(many.std().item() - 2.0) < 0.05
    _, y_test, same = gaussian_mixture(500, 5, 4, 2.0, seed=9, means=means)
    assert same is means and torch.bincount(y_test).tolist() == [125] * 4


def test_mixture_components_belong_to_classes():
    x, y, means = gaussian_mixture(3000, 4, 3, 10.0, seed=0, components_per_class=2)  # far apart: no overlap
    assert means.shape == (6, 4)
    component = torch.cdist(x, means).argmin(1)
    assert torch.equal(component % 3, y)  # component k belongs to class k mod classes
    assert set(component.tolist()) == set(range(6))


def test_bayes_accuracy_is_the_nearest_mean_for_one_component():
    x, y, means = gaussian_mixture(2000, 10, 5, 0.4, seed=2)
    nearest = (torch.cdist(x, means).argmin(1) == y).double().mean().item()
    assert bayes_accuracy(x, y, means, 5) == nearest
    # a hand case: two classes at ±1 on a line, with two samples on each side
    means = torch.tensor([[-1.0], [1.0], [5.0], [-5.0]], dtype=torch.float64)  # components 2, 3: classes 0, 1
    x = torch.tensor([[-0.5], [4.0], [0.5], [-4.0]], dtype=torch.float64)
    assert bayes_accuracy(x, torch.tensor([0, 0, 1, 1]), means, 2) == 1.0
    assert bayes_accuracy(x, torch.tensor([1, 1, 0, 0]), means, 2) == 0.0


# ---------------------------------------------------------------- the net, Eq. 22


def bn(r, gamma, beta, eps):
    """Standard BN in training mode, by hand: (r − mean)/√(biased var + ε)·γ + β."""
    return (r - r.mean(0)) / np.sqrt(r.var(0) + eps) * gamma + beta


@pytest.mark.parametrize("dim_in", [3, 4])  # 4 = width: layer 1 is still not skipped
def test_block_equation_by_hand(dim_in):
    net = ResidualMLP(dim_in=dim_in, width=4, blocks=3, classes=2, seed=5)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for norm in net.norms:  # arbitrary λ and β, so both enter
            norm.weight.copy_(torch.rand(4, generator=g, dtype=torch.float64) + 0.5)
            norm.bias.copy_(torch.randn(4, generator=g, dtype=torch.float64))
    x = torch.randn(6, dim_in, generator=g, dtype=torch.float64)
    W = [layer.weight.detach().numpy() for layer in net.layers]
    lam = [norm.weight.detach().numpy() for norm in net.norms]
    beta = [norm.bias.detach().numpy() for norm in net.norms]
    eps = net.norms[0].eps
    n = bn(np.maximum(x.numpy() @ W[0].T, 0), lam[0], beta[0], eps)  # layer 1: no skip
    for l in (1, 2):
        n = bn(np.maximum(n @ W[l].T, 0), lam[l], beta[l], eps) + n  # Eq. 22
    logits = n @ net.classifier.weight.detach().numpy().T + net.classifier.bias.detach().numpy()
    out = net(x)
    assert out.shape == (6, 2) and out.dtype == torch.float64
    assert np.allclose(out.detach().numpy(), logits, rtol=1e-12, atol=1e-12)


def test_block_equation_without_bn_by_hand():
    net = ResidualMLP(dim_in=3, width=4, blocks=3, classes=2, batch_norm=False, seed=5)
    assert len(net.norms) == 0
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    W = [layer.weight.detach().numpy() for layer in net.layers]
    n = np.maximum(x.numpy() @ W[0].T, 0)
    for l in (1, 2):
        n = np.maximum(n @ W[l].T, 0) + n
    logits = n @ net.classifier.weight.detach().numpy().T + net.classifier.bias.detach().numpy()
    assert np.allclose(net(x).detach().numpy(), logits, rtol=1e-12, atol=1e-12)


def test_shapes_and_initial_values():
    net = ResidualMLP()  # LW App. C: 50 → 20, 10 layers, 10 classes
    assert [tuple(layer.weight.shape) for layer in net.layers] == [(20, 50)] + [(20, 20)] * 9
    assert all(layer.bias is None for layer in net.layers)
    assert tuple(net.classifier.weight.shape) == (10, 20)
    x = torch.randn(7, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert net(x).shape == (7, 10)
    signed, absolute = net.lambdas()
    assert torch.equal(signed, torch.ones(10, dtype=torch.float64)) and torch.equal(absolute, signed)
    assert all(torch.equal(norm.bias, torch.zeros(20, dtype=torch.float64)) for norm in net.norms)
    assert ResidualMLP(dtype=torch.float32)(torch.ones(3, 50)).dtype == torch.float32


def test_initial_weights_are_seeded_normal_with_variance_gain_over_fan_in():
    net = ResidualMLP(dim_in=400, width=300, blocks=2, init_gain=1.5, classifier_gain=0.5, seed=1)
    for layer in net.layers:
        fan_in = layer.weight.shape[1]
        assert abs(layer.weight.std().item() * math.sqrt(fan_in) / 1.5 - 1) < 0.01
    assert abs(net.classifier.weight.std().item() * math.sqrt(300) / 0.5 - 1) < 0.05
    same = ResidualMLP(dim_in=400, width=300, blocks=2, init_gain=1.5, classifier_gain=0.5, seed=1, batch_norm=False)
    assert all(torch.equal(a.weight, b.weight) for a, b in zip(net.layers, same.layers))  # BN or not: same W
    other = ResidualMLP(dim_in=400, width=300, blocks=2, seed=2)
    assert not torch.equal(net.layers[0].weight, other.layers[0].weight)


def test_weight_norm_is_the_norm_of_all_layer_weights():
    net = ResidualMLP(seed=4)
    direct = torch.cat([layer.weight.flatten() for layer in net.layers]).norm().item()
    assert weight_norm(net) == pytest.approx(direct, rel=1e-14)


# ---------------------------------------------------------------- training and its record


@pytest.fixture(scope="module")
def tiny_record():
    return train_residual_mlp(**TINY)


def test_record_is_deterministic_bit_for_bit(tiny_record):
    again = train_residual_mlp(**TINY)
    for key in ("lambdas", "norms", "minibatch", "metrics"):
        pd.testing.assert_frame_equal(tiny_record[key], again[key], check_exact=True)
    other = train_residual_mlp(**{**TINY, "seed": 1})
    assert not tiny_record["norms"].w_norm.equals(other["norms"].w_norm)


def test_record_layout(tiny_record):
    steps = TINY["epochs"] * math.ceil(TINY["n_train"] / TINY["batch_size"])
    assert tiny_record["norms"].iteration.tolist() == list(range(steps + 1))
    assert tiny_record["minibatch"].iteration.tolist() == list(range(1, steps + 1))
    assert tiny_record["metrics"].iteration.tolist() == list(range(0, steps + 1, 2))
    lam = tiny_record["lambdas"]
    assert len(lam) == (steps + 1) * TINY["blocks"] and set(lam.layer) == set(range(1, TINY["blocks"] + 1))
    assert (lam.lambda_abs >= lam["lambda"].abs() - 1e-15).all()
    summary = tiny_record["summary"].iloc[0]
    assert summary.iterations == steps and 0 < summary.bayes_train_acc <= 1


def test_stage_zero_is_the_initial_net(tiny_record):
    net = ResidualMLP(TINY["dim"], TINY["width"], TINY["blocks"], TINY["classes"], seed=0)
    norms = tiny_record["norms"]
    at0 = norms[norms.iteration == 0].iloc[0]
    assert at0.w_norm == weight_norm(net)
    assert [at0[f"norm_{l}"] for l in range(1, TINY["blocks"] + 1)] == net.layer_norms().tolist()
    lam = tiny_record["lambdas"]
    assert (lam[lam.iteration == 0]["lambda"] == 1.0).all()
    assert (lam[lam.iteration > 0]["lambda"] != 1.0).any()


def test_short_training_reduces_the_loss(tiny_record):
    m = tiny_record["metrics"]
    assert m.train_loss.iloc[-1] < 0.7 * m.train_loss.iloc[0]
    assert m.train_acc.iloc[-1] > 0.6  # 3 well-separated classes


def test_without_bn_records_no_lambdas_and_trains():
    record = train_residual_mlp(**{**TINY, "batch_norm": False, "lr": 0.01})
    assert record["lambdas"].empty
    m = record["metrics"]
    assert m.train_loss.iloc[-1] < m.train_loss.iloc[0]


def test_untrained_beta_stays_zero():
    torch_seed_state, threads = torch.random.get_rng_state(), torch.get_num_threads()
    record = train_residual_mlp(**{**TINY, "bn_shift": False, "epochs": 1, "threads": 1})
    assert torch.equal(torch.random.get_rng_state(), torch_seed_state)  # no global RNG used
    assert torch.get_num_threads() == threads  # and the threads are restored
    assert len(record["lambdas"]) > 0
    net = ResidualMLP(4, 3, 2, 2, bn_shift=False)
    optimizer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=1.0)
    x, y = torch.randn(8, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64), torch.arange(8) % 2
    torch.nn.functional.cross_entropy(net(x), y).backward()
    optimizer.step()
    assert all(torch.equal(norm.bias, torch.zeros(3, dtype=torch.float64)) for norm in net.norms)
    assert not all(torch.equal(norm.weight, torch.ones(3, dtype=torch.float64)) for norm in net.norms)


def test_a_last_minibatch_of_one_is_refused():
    with pytest.raises(ValueError, match="one sample"):
        train_residual_mlp(**{**TINY, "n_train": 201})


def test_bn_scale_init_uniform_draws_gamma_after_the_weights():
    ones, uniform = ResidualMLP(seed=3), ResidualMLP(seed=3, bn_scale_init="uniform")
    assert ones.layer_norms().equal(uniform.layer_norms()) and ones.classifier.weight.equal(uniform.classifier.weight)
    gammas = torch.stack([bn.weight.detach() for bn in uniform.norms])
    assert ((gammas > 0) & (gammas < 1)).all() and gammas.std() > 0.1  # U(0, 1), Lua Torch's default
    assert ResidualMLP(seed=3, bn_scale_init="uniform").lambdas()[0].equal(uniform.lambdas()[0])  # seeded
    with pytest.raises(ValueError, match="bn_scale_init"):
        ResidualMLP(bn_scale_init="zeros")


def assert_records_close(a: dict, b: dict, rtol: float = 1e-12):
    """Two records alike to rounding: runs batched differently sum in another order (BN's batch statistics)."""
    for key in ("lambdas", "norms", "minibatch", "metrics"):
        pd.testing.assert_frame_equal(a[key], b[key], check_exact=False, rtol=rtol, atol=0)


def test_training_together_is_training_each_alone():
    settings = [
        {**DEFAULTS, **TINY, "seed": s, "data_seed": s, "lr": lr} for s, lr in ((0, 0.05), (1, 0.05), (0, 0.01))
    ]
    together = train_together(settings)
    for s, record in zip(settings, together, strict=True):
        assert_records_close(record, train_residual_mlp(**s))
        assert record["summary"].trained_with.item() == 3 and record["summary"].lr.item() == s["lr"]
    assert not together[0]["norms"].w_norm.equals(together[1]["norms"].w_norm)  # each seed its own data and init
    assert not together[0]["norms"].w_norm.equals(together[2]["norms"].w_norm)  # and each lr its own path
    with pytest.raises(ValueError, match="differ only in lr, seed, data_seed"):
        train_together([settings[0], {**settings[1], "epochs": 3}])


@pytest.mark.parametrize("batch_norm", [True, False])
def test_training_is_torch_sgd_on_the_net(batch_norm):
    """The batched step against the plain loop it stands for: ResidualMLP (its forward checked by hand above),
    torch.optim.SGD with momentum and weight decay, the same data and minibatch order, weight norms and losses
    compared at every step."""
    cfg = {**TINY, "batch_norm": batch_norm, "weight_decay": 1e-3, "seed": 2, "data_seed": 4, "epochs": 1}
    record = train_residual_mlp(**cfg)
    x, y, _ = gaussian_mixture(cfg["n_train"], cfg["dim"], cfg["classes"], cfg["separation"], cfg["data_seed"])
    net = ResidualMLP(cfg["dim"], cfg["width"], cfg["blocks"], cfg["classes"], batch_norm, seed=cfg["seed"])
    sgd = torch.optim.SGD(net.parameters(), lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"])
    losses, norms = [], [weight_norm(net)]
    for batch in torch.randperm(cfg["n_train"], generator=torch.Generator().manual_seed(cfg["seed"] + 1)).split(50):
        loss = torch.nn.functional.cross_entropy(net(x[batch]), y[batch])
        sgd.zero_grad()
        loss.backward()
        sgd.step()
        losses.append(loss.item())
        norms.append(weight_norm(net))
    assert record["minibatch"].loss.tolist() == pytest.approx(losses, rel=1e-13)
    assert record["norms"].w_norm.tolist() == pytest.approx(norms, rel=1e-13)


def test_train_many_in_processes_is_train_one_at_a_time():
    settings = [{**TINY, "epochs": 1, "seed": s, "data_seed": s} for s in (0, 1, 2)]
    in_processes, serial = train_many(settings, threads=2), train_many(settings, threads=1)
    for a, b in zip(in_processes, serial, strict=True):
        assert_records_close(a, b)
    assert [r["summary"].trained_with.item() for r in in_processes] == [2, 1, 2]  # seeds 0, 2 | 1 (two processes)
    assert [r["summary"].trained_with.item() for r in serial] == [3, 3, 3]
    assert not in_processes[0]["norms"].w_norm.equals(in_processes[1]["norms"].w_norm)


def test_train_many_trains_apart_what_differs_in_more_than_lr_and_seed():
    records = train_many([{**TINY, "epochs": 1}, {**TINY, "epochs": 1, "batch_norm": False}], threads=1)
    assert [r["summary"].trained_with.item() for r in records] == [1, 1]
    assert len(records[0]["lambdas"]) and records[1]["lambdas"].empty


# ---------------------------------------------------------------- the targets' runs

SPEC = {
    "common": {k: v for k, v in TINY.items() if k != "lr"},
    "seeds": 3,
    "seed_offset": 5,
    "bn": {"lr": 0.05, "init_gain": 1.0, "sweep": [0.001, 0.05, 0.1]},
    "no_bn": {"lr": 0.01, "init_gain": 0.5, "sweep": [0.001]},
    "stages": 3,
}


@pytest.fixture(scope="module")
def mlp_runs():
    return builders._mlp_records(SPEC, True, 1)


def test_the_seeds_start_at_the_offset_and_the_sweep_shares_the_first_seeds_run(mlp_runs):
    seeds, sweep, lr = mlp_runs
    assert list(seeds) == [5, 6, 7] and sorted(sweep) == [0.001, 0.05, 0.1] and lr == 0.05
    assert sweep[0.05] is seeds[5]  # trained once
    alone = train_residual_mlp(**SPEC["common"], lr=0.1, init_gain=1.0, data_seed=5, seed=5)
    assert_records_close(sweep[0.1], alone)  # trained with the others
    assert not seeds[5]["norms"].w_norm.equals(seeds[6]["norms"].w_norm)  # each seed its own data and init


# ---------------------------------------------------------------- figures


def test_stage_iterations():
    assert figures.stage_iterations(range(0, 101, 10), n_stages=3) == [0, 50, 100]
    assert figures.stage_iterations(range(0, 101, 10), stages=[0, 33, 1000]) == [0, 30, 100]


def test_lw_fig1_d_plots_lambda_per_layer_per_stage_per_seed_and_the_sweep(mlp_runs):
    seeds, sweep, lr = mlp_runs
    fig, data = figures.lw_fig1_d(seeds, sweep, lr, n_stages=3)
    assert list(data.columns) == figures.lw.MLP_COLUMNS
    by_layer = data[data.panel == "by layer"]
    assert sorted(set(by_layer.iteration)) == [0, 4, 8] and sorted(set(by_layer.seed)) == [5, 6, 7]
    assert len(by_layer) == 3 * 3 * TINY["blocks"]
    assert (by_layer[by_layer.iteration == 0].value == 1.0).all()
    lam = seeds[6]["lambdas"]
    last = lam[lam.iteration == 8].sort_values("layer")["lambda"].to_numpy()
    mine = by_layer[(by_layer.iteration == 8) & (by_layer.seed == 6)].sort_values("layer")
    assert np.array_equal(mine.value.to_numpy(), last) and mine.layer.tolist() == list(range(1, TINY["blocks"] + 1))
    over = data[(data.panel == "over training") & (data.series == "mean lambda_2..L") & (data.seed == 6)]
    assert np.allclose(over.value, lam[lam.layer > 1].groupby("iteration")["lambda"].mean())
    swept = data[data.panel == "sweep"]
    assert sorted(set(swept.lr)) == [0.001, 0.05, 0.1] and set(swept.seed) == {5}
    assert len(fig.axes) == 4 and all(ax.get_legend() is not None for ax in fig.axes[:3])


def test_lw_fig1_e_plots_the_weight_norm_per_seed_and_the_sweep():
    seeds, sweep, lr = builders._mlp_records(SPEC, False, 1)
    fig, data = figures.lw_fig1_e(seeds, sweep, lr)
    w = data[(data.panel == "w_norm") & (data.seed == 7)]
    assert np.array_equal(w.value.to_numpy(), seeds[7]["norms"].w_norm.to_numpy())
    assert set(data[data.panel == "loss"].series) == {"train_loss", "test_loss"}
    assert sorted(set(data[data.panel == "sweep"].lr)) == [0.001, 0.01]
    assert fig.axes[0].get_xlabel() == "iteration" and fig.axes[2].get_yscale() == "log"
