"""Per-example gradients and their squared norms, layer by layer, from one forward and one backward pass.

For a loss summed over examples, example i's gradient with respect to a layer's parameters depends
only on that layer's input a_i and output gradient g_i. Linear and Conv2d layers: the weight gradient
is sum over positions l of g_il u_il^T, with u_il the input (patch) at output position l. Its squared
norm is computed one of two ways, whichever costs fewer multiply-adds for the layer's shape
(`norm_costs`; the per-layer mixed choice of Bu et al., 2022):

- "materialise": form the gradient and square it, about L*d*p per example (L output positions,
  d = in_channels*k*k, p = out_channels), by one grouped convolution whose groups are the examples
  (one batched matmul for a 1x1 convolution or a Linear layer);
- "ghost": sum_{l,l'} (u_il . u_il')(g_il . g_il') without forming it (Goodfellow, 2015; Li et al.,
  2022), about L^2*(d + p) per example from two batched Gram matrices: cheap for late, wide,
  low-resolution layers. Convolution patches are copied channels-last, never `F.unfold`-ed.

BatchNorm2d in eval mode is an affine map of the running-normalised input and has its own exact rule; its tap
also passes the input gradient on itself (`_BatchNormTap`), bitwise as PyTorch's CPU kernel would.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

SUPPORTED = (nn.Conv2d, nn.Linear, nn.BatchNorm2d)

Visit = Callable[[nn.Module, Tensor, Tensor], None]


def trainable_layers(model: nn.Module) -> list[nn.Module]:
    """The layers holding trainable parameters; raise if any of them has no per-example rule."""
    layers = []
    for name, module in model.named_modules():
        if not any(p.requires_grad for p in module.parameters(recurse=False)):
            continue
        if not isinstance(module, SUPPORTED):
            raise NotImplementedError(f"per-example gradients do not support layer {name!r} ({module})")
        if isinstance(module, nn.Conv2d) and (
            module.groups != 1 or isinstance(module.padding, str) or module.padding_mode != "zeros"
        ):
            raise NotImplementedError(
                f"per-example gradients support only ungrouped, zero-padded Conv2d with numeric padding, "
                f"not layer {name!r} ({module})"
            )
        if isinstance(module, nn.BatchNorm2d) and module.running_mean is None:
            raise NotImplementedError(
                f"BatchNorm2d layer {name!r} has no running statistics, so in eval mode it mixes the examples "
                "of a batch: build it with track_running_stats=True"
            )
        layers.append(module)
    return layers


class _Tap(torch.autograd.Function):
    """The identity on a layer's output; its backward hands the output gradient to `visit`.

    Every tap also takes the same dummy `anchor`, so that asking for the anchor's gradient runs the
    backward pass through every tapped layer without retaining any output gradient.
    """

    @staticmethod
    def forward(ctx, output: Tensor, anchor: Tensor, visit: Callable[[Tensor], None]) -> Tensor:
        ctx.visit = visit
        return output.detach()  # not a view, so that later in-place ops (ReLU(inplace=True)) may modify it

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        visit, ctx.visit = ctx.visit, None  # frees the layer's input once used
        visit(grad)
        return grad, grad.new_zeros(()), None


class _BatchNormTap(torch.autograd.Function):
    """A `_Tap` on an eval-mode BatchNorm2d's output that also passes the input gradient to the layer's input.

    The layer's own backward receives no gradient, so computes nothing. On the CPU it would also reduce over the
    batch for the weight gradient: for 8 channels, channels-last, that made it 10x dearer than the product
    computed here. The product is PyTorch's CPU formula, grad * invstd * weight with invstd =
    1/sqrt(running_var + eps) in double rounded to float, so on the CPU the gradient is bitwise the same and
    stored scores stay reproducible (on a GPU it agrees to rounding).
    """

    @staticmethod
    def forward(
        ctx, output: Tensor, anchor: Tensor, visit: Callable[[Tensor], None], inp: Tensor, module: nn.BatchNorm2d
    ) -> Tensor:
        ctx.visit = visit
        ctx.invstd = (1 / torch.sqrt(module.running_var.double() + module.eps)).to(output.dtype)[:, None, None]
        ctx.weight = module.weight.detach()[:, None, None]
        return output.detach()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor, None, Tensor, None]:
        visit, ctx.visit = ctx.visit, None
        visit(grad)
        return None, grad.new_zeros(()), None, grad * ctx.invstd * ctx.weight, None


def visit_layer_grads(
    model: nn.Module, layers: list[nn.Module], x: Tensor, y: Tensor | None, loss_fn, visit: Visit
) -> None:
    """Call `visit(layer, input, output gradient)` for every layer in `layers`, for `loss_fn(model(x), y)`.

    `loss_fn` must be a sum over examples, so that each example's rows of the output gradient are
    that example's own. Layers are visited during one backward pass (last layer first), as soon as
    their output gradient is known, and each gradient is dropped after its visit. Only input
    gradients are computed: no parameter `.grad` is touched. Tensors are passed as float32. The
    model must be in eval mode where it has BatchNorm layers.
    """
    if not layers:
        return
    if any(layer.training for layer in layers if isinstance(layer, nn.BatchNorm2d)):
        raise ValueError("BatchNorm in training mode mixes the examples of a batch: call model.eval() first")
    anchor = torch.zeros((), device=x.device, requires_grad=True)
    ran: list[nn.Module] = []
    visited: list[nn.Module] = []

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> Tensor:
        a = inputs[0].detach()
        ran.append(module)

        def on_grad(g: Tensor) -> None:
            visited.append(module)
            visit(module, a.float(), g.float())

        if isinstance(module, nn.BatchNorm2d):
            return _BatchNormTap.apply(output, anchor, on_grad, inputs[0], module)
        return _Tap.apply(output, anchor, on_grad)

    handles = [layer.register_forward_hook(hook) for layer in layers]
    try:
        with torch.enable_grad():
            loss = loss_fn(model(x), y)
            if len(ran) != len(layers) or set(map(id, ran)) != set(map(id, layers)):
                raise NotImplementedError("a layer with parameters ran more or less than once per forward pass")
            torch.autograd.grad(loss, anchor)
    finally:
        for h in handles:
            h.remove()
    if len(visited) != len(layers):
        raise NotImplementedError("a layer with parameters does not affect the loss: freeze its parameters")


def layer_inputs_and_grads(
    model: nn.Module, layers: list[nn.Module], x: Tensor, y: Tensor | None, loss_fn
) -> list[tuple[nn.Module, Tensor, Tensor]]:
    """(layer, input, output gradient) of every layer in `layers`, in backward order (see `visit_layer_grads`).

    Holds every layer's output gradient at once: prefer `visit_layer_grads` where memory matters.
    """
    captured: list[tuple[nn.Module, Tensor, Tensor]] = []
    visit_layer_grads(model, layers, x, y, loss_fn, lambda m, a, g: captured.append((m, a, g)))
    return captured


def per_example_grad_sq_norms(model: nn.Module, layers: list[nn.Module], x: Tensor, y: Tensor, loss_fn) -> Tensor:
    """Squared norms (B,) of the per-example gradients of `loss_fn(model(x), y)` (a sum over examples).

    Layers are summed last to first and each by the cheaper of two exact computations, so results
    differ from a per-example backward pass by float32 rounding only (about 1e-6 relative).
    """
    total = torch.zeros(len(x), device=x.device)
    visit_layer_grads(model, layers, x, y, loss_fn, lambda m, a, g: total.add_(layer_sq_norms(m, a, g)))
    return total


def layer_grads(module: nn.Module, a: Tensor, g: Tensor) -> Tensor:
    """Per-example gradients (B, params) of one layer's trainable parameters, weight then bias, each flattened."""
    if isinstance(module, nn.BatchNorm2d):
        parts = _batchnorm_grads(module, a, g)
    else:
        weight = torch.cat([_materialised(module, ac, gc) for ac, gc in _chunks(module, a, g, "materialise")])
        parts = (weight if module.weight.requires_grad else None, _bias_grad(module, g))
    return torch.cat([p.flatten(1) for p in parts if p is not None], dim=1)


def layer_sq_norms(module: nn.Module, a: Tensor, g: Tensor) -> Tensor:
    """Per-example squared gradient norms (B,) of one layer's trainable parameters.

    The weight's norm is computed by `norm_method`, on chunks of examples (see `_CHUNK_FLOATS`).
    """
    if isinstance(module, nn.BatchNorm2d):
        parts = _batchnorm_grads(module, a, g)
        return sum(p.pow(2).sum(1) for p in parts if p is not None)
    bias = _bias_grad(module, g)
    sq = torch.zeros(a.shape[0], device=a.device) if bias is None else bias.pow(2).sum(1)
    if module.weight.requires_grad:
        method = norm_method(module, a.shape, g.shape)
        fn = _ghost if method == "ghost" else lambda m, ac, gc: _materialised(m, ac, gc).flatten(1).pow(2).sum(1)
        sq += torch.cat([fn(module, ac, gc) for ac, gc in _chunks(module, a, g, method)])
    return sq


def norm_costs(module: nn.Module, in_shape: torch.Size, out_shape: torch.Size) -> dict[str, int]:
    """Multiply-adds (and copies) per example of each computation of a Linear or Conv2d weight-gradient norm."""
    n, d, p = _positions_and_sizes(module, in_shape, out_shape)
    patches = 0 if isinstance(module, nn.Linear) else n * d  # the channels-last patch copy
    return {"materialise": n * d * p + d * p, "ghost": n * n * (d + p + 1) + patches}


def norm_method(module: nn.Module, in_shape: torch.Size, out_shape: torch.Size) -> str:
    """'materialise' or 'ghost' for a Linear or Conv2d layer: whichever `norm_costs` counts cheaper."""
    costs = norm_costs(module, in_shape, out_shape)
    return "ghost" if costs["ghost"] < costs["materialise"] else "materialise"


def _positions_and_sizes(module: nn.Module, in_shape: torch.Size, out_shape: torch.Size) -> tuple[int, int, int]:
    """(L, d, p): output positions per example, weight fan-in and fan-out."""
    if isinstance(module, nn.Linear):
        return in_shape[1:-1].numel(), in_shape[-1], out_shape[-1]
    return out_shape[2:].numel(), module.weight[0].numel(), out_shape[1]


# Examples are processed in chunks whose working set (inputs, output gradients and the largest intermediate)
# is at most the larger of this many float32 values (1 MiB, cache-sized) and the layer's output gradient, which
# the backward pass holds anyway at that point: so the extra memory never exceeds a training step's.
_CHUNK_FLOATS = 2**18


def _chunks(module: nn.Module, a: Tensor, g: Tensor, method: str):
    n, d, p = _positions_and_sizes(module, a.shape, g.shape)
    largest = d * p if method == "materialise" else n * (d + 2 * n)
    per_example = a[0].numel() + g[0].numel() + largest
    size = max(1, max(_CHUNK_FLOATS, g.numel()) // per_example)
    return zip(a.split(size), g.split(size))


def _bias_grad(module: nn.Module, g: Tensor) -> Tensor | None:
    if module.bias is None or not module.bias.requires_grad:
        return None
    return g.sum((2, 3)) if isinstance(module, nn.Conv2d) else g.reshape(g.shape[0], -1, g.shape[-1]).sum(1)


def _rows(module: nn.Module, a: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    """(U, G): each example's inputs (B, L, d) and output gradients (B, L, p), one row per output position."""
    b = a.shape[0]
    if isinstance(module, nn.Linear):
        return a.reshape(b, -1, a.shape[-1]), g.reshape(b, -1, g.shape[-1])
    return _patches(module, a), g.permute(0, 2, 3, 1).reshape(b, -1, g.shape[1])


def _patches(module: nn.Conv2d, a: Tensor) -> Tensor:
    """A Conv2d's input patches (B, L, kh*kw*c), built channels-last with one strided copy per kernel offset."""
    (kh, kw), (sh, sw), (dh, dw), (ph, pw) = module.kernel_size, module.stride, module.dilation, module.padding
    x = a.permute(0, 2, 3, 1)
    if (kh, kw, sh, sw, ph, pw) == (1, 1, 1, 1, 0, 0):
        return x.reshape(x.shape[0], -1, x.shape[3])  # a view for channels_last inputs
    x = F.pad(x, (0, 0, pw, pw, ph, ph))
    ho, wo = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1, (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
    u = x.new_empty(x.shape[0], ho, wo, kh, kw, x.shape[3])
    for i in range(kh):
        for j in range(kw):
            u[:, :, :, i, j] = x[:, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]
    return u.view(x.shape[0], ho * wo, -1)


def _materialised(module: nn.Module, a: Tensor, g: Tensor) -> Tensor:
    """Per-example weight gradients (B, *weight.shape)."""
    b = a.shape[0]
    if isinstance(module, nn.Linear) or module.kernel_size == (1, 1):  # grad_i = G_i^T U_i
        u, gm = _rows(module, a, g)
        return torch.bmm(gm.transpose(1, 2), u).view(b, *module.weight.shape)
    # one convolution whose groups are the examples: its weight gradient stacks theirs
    c, p = a.shape[1], g.shape[1]
    grads = torch.nn.grad.conv2d_weight(
        a.contiguous().view(1, b * c, *a.shape[2:]), (b * p, c, *module.kernel_size),
        g.contiguous().view(1, b * p, *g.shape[2:]), module.stride, module.padding, module.dilation, groups=b,
    )
    return grads.view(b, *module.weight.shape)


def _ghost(module: nn.Module, a: Tensor, g: Tensor) -> Tensor:
    """Squared weight-gradient norms (B,) as sum_{l,l'} (u_l . u_l')(g_l . g_l'), never forming the gradient."""
    u, gm = _rows(module, a, g)
    return (torch.bmm(u, u.transpose(1, 2)) * torch.bmm(gm, gm.transpose(1, 2))).sum((1, 2))


def _batchnorm_grads(module: nn.BatchNorm2d, a: Tensor, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """Per-example (weight, bias) gradients (B, C) of an eval-mode BatchNorm2d; None where frozen."""
    weight = bias = None
    if module.weight is not None and module.weight.requires_grad:
        products = (a - module.running_mean[:, None, None]).mul_(g)  # one temporary
        weight = products.sum((2, 3)) * torch.rsqrt(module.running_var + module.eps)
    if module.bias is not None and module.bias.requires_grad:
        bias = g.sum((2, 3))
    return weight, bias
