"""The plain↔residual equivalence of YT §3–4.1, checked in float64."""

import copy

import pytest
import torch
import torch.nn.functional as F

from plainres.init import initialise
from plainres.models import FullyFledgedNet, SimplifiedNet, group_plan
from plainres.transfer import id_entries, rho, transfer_to_plain, transfer_to_residual, weight_penalty

TOL = 1e-12


def rel(a, b):
    return ((a - b).norm() / b.norm()).item()


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def equivalent_pair(depth, seed=0, paths="all"):
    r = initialise(SimplifiedNet(depth, residual=True, paths=paths).double(), "hmwi", seed)
    return r, transfer_to_plain(r)


def batch(seed, n=8):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=g, dtype=torch.float64), torch.randint(10, (n,), generator=g)


def test_id_entries_are_the_centre_taps_of_matching_channels():
    w = torch.zeros(32, 16, 3, 3)
    mask = id_entries(w)
    assert mask.sum() == 16
    assert all(mask[c, c, 1, 1] for c in range(16))
    rectangular = id_entries(torch.zeros(8, 16, 3, 3))
    assert rectangular.sum() == 8


@pytest.mark.parametrize("depth", [8, 20, 44])
def test_residual_r_and_plain_T_r_give_the_same_outputs(depth):
    r, p = equivalent_pair(depth)
    assert not p.residual and all(not b.residual for b in p.blocks)
    x, _ = batch(depth)
    assert rel(p(x), r(x)) <= TOL
    assert rel(transfer_to_residual(p)(x), r(x)) <= TOL


@pytest.mark.parametrize("depth", [8, 20, 44])
def test_parameter_gradients_are_equal(depth):
    r, p = equivalent_pair(depth, seed=1)
    x, y = batch(depth + 1)
    g_r = torch.autograd.grad(F.cross_entropy(r(x), y), list(r.parameters()))
    g_p = torch.autograd.grad(F.cross_entropy(p(x), y), list(p.parameters()))
    assert rel(flat(g_p), flat(g_r)) <= TOL
    for a, b in zip(g_p, g_r):  # every tensor, not only the whole vector
        assert rel(a, b) <= TOL or b.norm() == 0


def train_pair(depth, steps, plain_penalty_about_identity, lam=1e-2, lr=0.05):
    r, p = equivalent_pair(depth, seed=2)
    opt_r = torch.optim.SGD(r.parameters(), lr=lr, momentum=0.9)
    opt_p = torch.optim.SGD(p.parameters(), lr=lr, momentum=0.9)
    worst = 0.0
    for step in range(steps):
        x, y = batch(100 + step)  # identical minibatches for both nets
        for net, opt, about in ((r, opt_r, False), (p, opt_p, plain_penalty_about_identity)):
            opt.zero_grad()
            cost = F.cross_entropy(net(x), y) + lam / 2 * weight_penalty(net, about_identity=about)
            cost.backward()
        worst = max(worst, rel(flat(q.grad for q in p.parameters()), flat(q.grad for q in r.parameters())))
        opt_r.step()
        opt_p.step()
    return r, p, worst


def test_equivalence_survives_20_sgd_steps_with_momentum_and_decay_on_T_inverse():
    r0 = equivalent_pair(20, seed=2)[0]
    r, p, worst = train_pair(20, steps=20, plain_penalty_about_identity=True)
    assert worst <= TOL
    r_from_p = transfer_to_residual(p)
    assert rel(flat(r_from_p.parameters()), flat(r.parameters())) <= TOL
    moved = rel(flat(r.parameters()), flat(r0.parameters()))
    assert moved > 1e-3  # the nets really trained
    x, _ = batch(7)
    assert rel(p(x), r(x)) <= TOL


def test_decay_on_p_instead_of_T_inverse_breaks_the_equivalence():
    """The control: the same loop with the plain net penalising ‖p‖² must fail the check above."""
    _, _, worst = train_pair(20, steps=2, plain_penalty_about_identity=False)
    assert worst > 1e-6


def test_T_inverse_is_exact_on_the_image_of_T():
    r, p = equivalent_pair(20, seed=3)
    back = transfer_to_residual(p)
    again = transfer_to_plain(back)
    for (name, a), b, c, d in zip(r.named_parameters(), back.parameters(), p.parameters(), again.parameters()):
        assert torch.equal(c, d), name  # T(T⁻¹(T(r))) == T(r), bit for bit
        ids = id_entries(a) if a.dim() == 4 and name.startswith("blocks") else torch.zeros_like(a, dtype=torch.bool)
        assert torch.equal(a[~ids], b[~ids]), name  # every entry but the ID entries: exact
        # ID entries: T rounds 1 + r once; T⁻¹ adds no further error
        assert ((a[ids] - b[ids]).abs() <= 2.0**-53).all(), name


def test_T_inverse_of_T_is_the_identity_on_values_that_survive_one_plus_r():
    """r on the grid of ulp(1) = 2⁻⁵² is representable after adding 1: T⁻¹(T(r)) == r exactly."""
    r = initialise(SimplifiedNet(20, residual=True).double(), "hmwi", 4)
    with torch.no_grad():
        for q in r.parameters():
            q.copy_(torch.round(q * 2.0**52) / 2.0**52)
    back = transfer_to_residual(transfer_to_plain(r))
    assert all(torch.equal(a, b) for a, b in zip(r.parameters(), back.parameters()))


def test_rho_counts_min_c_d_per_block_and_the_penalty_about_identity():
    r, p = equivalent_pair(8, seed=5)
    ones = sum(int(v.sum()) for v in rho(p).values())
    assert ones == sum(min(c, d) for c, d, _ in group_plan(8))
    assert weight_penalty(p, about_identity=True).item() == pytest.approx(weight_penalty(r).item(), rel=1e-12)
    assert weight_penalty(p).item() > weight_penalty(r).item() + ones / 2


def test_dominant_path_nets_transfer_too():
    r, p = equivalent_pair(8, seed=6, paths="dominant")
    x, _ = batch(8)
    assert rel(p(x), r(x)) <= TOL
    for block in p.blocks:
        assert (block.conv.weight[~block.conv.mask] == 0).all()


def test_transfer_refuses_what_it_cannot_map():
    with pytest.raises(TypeError, match="simplified"):
        rho(FullyFledgedNet(20, True))
    r = SimplifiedNet(8, residual=True)
    with pytest.raises(ValueError, match="already"):
        transfer_to_residual(r)
    assert copy.deepcopy(r).residual
