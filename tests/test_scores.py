import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from analysis.models import build_model
from analysis.scores import correct, el2n, forgetting_scores, grand, input_norm
from analysis.train import memory_format


def _naive_grand(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    model.eval()
    params = [p for p in model.parameters() if p.requires_grad]
    norms = []
    for i in range(len(x)):
        grads = torch.autograd.grad(F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]), params)
        norms.append(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
    return torch.stack(norms).detach()


@pytest.mark.parametrize("name,width,init", [("resnet18", 8, "lecun"), ("vgg11", 16, "lecun"), ("resnet50", 4, "lecun"),
                                             ("airbench", 8, "lecun"), ("airbench", 8, "airbench")])
def test_grand_equals_naive_per_example_loop(name, width, init, randomise_bn):
    """Over the trainable parameters: airbench94's initialisation fixes the stem and the BatchNorm scales."""
    torch.manual_seed(0)
    model = randomise_bn(build_model(name, 10, width, init))
    model = model.to(memory_format=memory_format(model))  # as trained
    model.train()
    x = torch.randn(10, 3, 32, 32)
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])  # a batch that mixes classes
    before = copy.deepcopy(model.state_dict())
    fast = grand(model, x, y, batch_size=4)
    assert model.training, "grand must restore the model's mode"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "weights must be unchanged"
    assert all(p.grad is None for p in model.parameters())
    naive = _naive_grand(model, x, y)
    assert torch.allclose(fast, naive, rtol=1e-5, atol=0)


def test_grand_refuses_layers_it_cannot_handle():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.GroupNorm(2, 4), nn.Flatten(), nn.LazyLinear(2))
    model(torch.randn(1, 3, 8, 8))
    with pytest.raises(NotImplementedError, match="GroupNorm"):
        grand(model, torch.randn(2, 3, 8, 8), torch.tensor([0, 1]))


class FixedLogits(nn.Module):
    """Returns a fixed row of logits per example index (inputs carry the index)."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = nn.Parameter(logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits[x[:, 0, 0, 0].long()]


def test_el2n_matches_hand_computation():
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 10.0]])
    model = FixedLogits(logits)
    x = torch.arange(3.0).view(3, 1, 1, 1)
    y = torch.tensor([0, 0, 0])
    p = 1 / (1 + torch.exp(torch.tensor(-2.0)))  # softmax prob of class 0 for logits (2, 0)
    q = 1 / (1 + torch.exp(torch.tensor(10.0)))  # prob of class 0 for logits (0, 10)
    expected = torch.stack([
        torch.tensor(0.5 * 2**0.5),  # (0.5 - 1, 0.5) -> sqrt(0.5)
        torch.sqrt(2 * (1 - p) ** 2),
        torch.sqrt(2 * (1 - q) ** 2),
    ])
    assert torch.allclose(el2n(model, x, y), expected, atol=1e-6)
    assert torch.allclose(el2n(model, x, y, squared=True), expected**2, atol=1e-6)


def test_correct_marks_the_examples_classified_as_their_label():
    model = FixedLogits(torch.tensor([[1.0, 0.0], [0.0, 3.0], [2.0, 1.0]]))
    x = torch.arange(3.0).view(3, 1, 1, 1)
    assert correct(model, x, torch.tensor([0, 0, 1])).tolist() == [1.0, 0.0, 0.0]
    assert correct(model, x, torch.tensor([0, 1, 0]), batch_size=2).tolist() == [1.0, 1.0, 1.0]


def test_input_norm():
    images = torch.tensor([[[[3.0, 4.0]]], [[[0.0, 0.0]]]])
    assert input_norm(images).tolist() == [5.0, 0.0]


def test_forgetting_matches_hand_worked_sequences():
    t, f = True, False
    # example 0: correct, wrong, correct, wrong -> 2 events; example 1: wrong, correct, correct -> 0;
    # example 2: never correct -> inf; example 3: correct once then wrong twice -> 1; example 4: never shown -> inf
    presentations = [
        ([0, 1, 2, 3], [t, f, f, t]),
        ([0, 1, 2, 3], [f, t, f, f]),
        ([0, 2], [t, f]),
        ([0, 1, 3], [f, t, f]),
    ]
    scores = forgetting_scores([(torch.tensor(i), torch.tensor(c)) for i, c in presentations], n=5)
    assert scores.tolist() == [2.0, 0.0, float("inf"), 1.0, float("inf")]
