using Autograd.Nn;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TTensor = TorchSharp.torch.Tensor;

namespace Autograd.Benchmarks.CharLm;

/// <summary>
/// Peer: TorchSharp's fused <c>nn.RNN/GRU/LSTM(batch_first)</c> + <c>nn.Linear</c>, softmax cross-entropy
/// (mean over B·T), plain SGD. Each step runs inside <c>torch.NewDisposeScope()</c>.
/// </summary>
public sealed class TorchFusedCharLm : ICharLmStep
{
    private readonly CharLmShape _shape;
    private readonly nn.Module _recurrent;
    private readonly Func<TTensor, TTensor> _runRecurrent;
    private readonly Linear _projection;
    private readonly optim.Optimizer _sgd;
    private readonly TTensor _input;    // one-hot (B, T, V), float32
    private readonly TTensor _targets;  // (B·T), int64

    public TorchFusedCharLm(CharLmShape shape, CellKind cell)
    {
        _shape = shape;
        torch.manual_seed(1);
        switch (cell)
        {
            case CellKind.Rnn:
                var rnn = nn.RNN(shape.V, shape.H, numLayers: 1, nonLinearity: nn.NonLinearities.Tanh, bias: true, batchFirst: true);
                _recurrent = rnn;
                _runRecurrent = x => rnn.forward(x, null).Item1;
                break;
            case CellKind.Gru:
                var gru = nn.GRU(shape.V, shape.H, numLayers: 1, bias: true, batchFirst: true);
                _recurrent = gru;
                _runRecurrent = x => gru.forward(x, null).Item1;
                break;
            case CellKind.Lstm:
                var lstm = nn.LSTM(shape.V, shape.H, numLayers: 1, bias: true, batchFirst: true);
                _recurrent = lstm;
                _runRecurrent = x => lstm.forward(x, null).Item1;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(cell), cell, "TorchFusedCharLm: unknown cell.");
        }
        _projection = nn.Linear(shape.H, shape.V);
        _sgd = optim.SGD(_recurrent.parameters().Concat(_projection.parameters()), 0.01);
        _input = TorchData.OneHot(shape);
        _targets = TorchData.Targets(shape);
    }

    public float Step()
    {
        using var scope = torch.NewDisposeScope();
        _sgd.zero_grad();
        var hidden = _runRecurrent(_input);                                   // (B, T, H)
        var logits = _projection.forward(hidden).reshape(_shape.B * _shape.T, _shape.V);
        var loss = nn.functional.cross_entropy(logits, _targets);
        loss.backward();
        _sgd.step();
        return loss.item<float>();
    }

    public void Dispose()
    {
        _recurrent.Dispose();
        _projection.Dispose();
        _input.Dispose();
        _targets.Dispose();
    }
}

/// <summary>Torch-side copies of a <see cref="CharLmShape"/>'s fixed batch.</summary>
internal static class TorchData
{
    /// <summary>One-hot input (B, T, V), float32, created outside any dispose scope.</summary>
    public static TTensor OneHot(CharLmShape shape)
    {
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(shape.Ids.Select(i => (long)i).ToArray(), new long[] { shape.B, shape.T });
        return nn.functional.one_hot(ids, shape.V).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Targets flattened to (B·T), int64.</summary>
    public static TTensor Targets(CharLmShape shape) =>
        torch.tensor(shape.Targets.Select(i => (long)i).ToArray(), new long[] { shape.B * shape.T });
}
