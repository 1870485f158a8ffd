using Autograd.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TTensor = TorchSharp.torch.Tensor;

namespace Autograd.Benchmarks.CharLm;

/// <summary>
/// Peer: the same cells written from TorchSharp primitive ops in a C# loop over time (the fair
/// comparison of autodiff engines), then <c>hs @ W_v + b_v</c>, cross-entropy (mean over B·T) and
/// plain SGD. Cell math follows ours (shared/docs/seed.md §4): GRU applies the reset gate before the
/// hidden matmul. Like ours, the input projection x·W_x + b of all time steps is one matmul before
/// the loop, split into steps with <c>unbind</c>; inside the loop, the gates of h are fused into one matmul
/// per step (as in PyTorch's benchmarks/fastrnns/custom_lstms.py).
/// </summary>
public sealed class TorchComposedCharLm : ICharLmStep
{
    private readonly CharLmShape _shape;
    private readonly CellKind _cell;
    private readonly Parameter _wx, _wh, _b, _wv, _bv;
    private readonly Parameter? _whh;   // GRU only: candidate's (r*h) @ W_hh
    private readonly optim.Optimizer _sgd;
    private readonly TTensor _input;    // one-hot (B, T, V)
    private readonly TTensor _targets;  // (B·T), int64

    public TorchComposedCharLm(CharLmShape shape, CellKind cell)
    {
        _shape = shape;
        _cell = cell;
        torch.manual_seed(1);
        int h = shape.H, v = shape.V;
        int gates = cell switch { CellKind.Rnn => 1, CellKind.Gru => 3, CellKind.Lstm => 4, _ => throw new ArgumentOutOfRangeException(nameof(cell)) };
        double k = 1.0 / Math.Sqrt(h);
        _wx = Uniform(k, v, gates * h);
        // GRU: h feeds r and u through W_h (H, 2H); the candidate uses (r*h) @ W_hh (H, H).
        _wh = Uniform(k, h, (cell == CellKind.Gru ? 2 : gates) * h);
        _whh = cell == CellKind.Gru ? Uniform(k, h, h) : null;
        _b = Uniform(k, gates * h);
        _wv = Uniform(k, h, v);
        _bv = Uniform(k, v);
        var parameters = new List<Parameter> { _wx, _wh, _b, _wv, _bv };
        if (_whh is not null) parameters.Add(_whh);
        _sgd = optim.SGD(parameters, 0.01);
        _input = TorchData.OneHot(shape);
        _targets = TorchData.Targets(shape);
    }

    private static Parameter Uniform(double k, params long[] shape)
    {
        using var noGrad = torch.no_grad();
        return new Parameter(torch.empty(shape).uniform_(-k, k));
    }

    public float Step()
    {
        using var scope = torch.NewDisposeScope();
        _sgd.zero_grad();
        int b = _shape.B, t = _shape.T, hSize = _shape.H;
        var h = torch.zeros(b, hSize);
        var c = _cell == CellKind.Lstm ? torch.zeros(b, hSize) : null;
        var outputs = new TTensor[t];
        var projected = (_input.reshape(b * t, _shape.V).mm(_wx) + _b).reshape(b, t, -1);  // (B, T, G·H)
        // unbind, not select per step: select's backward materialises a zero (B, T, G·H) gradient for every
        // step (quadratic in T: 40 s per L-size LSTM step), unbind's stacks the step gradients once.
        var xs = projected.unbind(1);
        for (int step = 0; step < t; step++)
        {
            var x = xs[step];                                                 // (B, G·H)
            switch (_cell)
            {
                case CellKind.Rnn:
                    h = (x + h.mm(_wh)).tanh();
                    break;
                case CellKind.Gru:
                {
                    var gx = x.chunk(3, 1);                                  // r, u, candidate
                    var gh = h.mm(_wh).chunk(2, 1);                          // r, u
                    var r = (gx[0] + gh[0]).sigmoid();
                    var u = (gx[1] + gh[1]).sigmoid();
                    var candidate = (gx[2] + (r * h).mm(_whh!)).tanh();
                    h = u * h + (1 - u) * candidate;
                    break;
                }
                case CellKind.Lstm:
                {
                    var g = (x + h.mm(_wh)).chunk(4, 1);                      // f, i, candidate, o
                    c = g[0].sigmoid() * c! + g[1].sigmoid() * g[2].tanh();
                    h = g[3].sigmoid() * c.tanh();
                    break;
                }
            }
            outputs[step] = h;
        }
        var hidden = torch.stack(outputs, 1).reshape(b * t, hSize);          // (B·T, H)
        var logits = hidden.mm(_wv) + _bv;                                     // (B·T, V)
        var loss = nn.functional.cross_entropy(logits, _targets);
        loss.backward();
        _sgd.step();
        return loss.item<float>();
    }

    public void Dispose()
    {
        foreach (var p in new[] { _wx, _wh, _b, _wv, _bv, _whh }) p?.Dispose();
        _input.Dispose();
        _targets.Dispose();
    }
}
