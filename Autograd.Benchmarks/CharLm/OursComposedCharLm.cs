using Autograd.Nn;

namespace Autograd.Benchmarks.CharLm;

/// <summary>
/// Ours: an <see cref="RnnLayer{T}"/>/<see cref="GruLayer{T}"/>/<see cref="LstmLayer{T}"/> (float) composed from
/// the engine's primitives, whose own output projection W_v (H, V) + B_v is the dense hidden→vocab layer,
/// then <see cref="Losses.CrossEntropy{T}"/> (mean over B·T) and <see cref="Sgd{T}"/> (lr 0.01).
/// The one-hot input goes through <see cref="RecurrentLayer{T}.ForwardOneHot"/>, a row lookup that is
/// mathematically identical to one-hot(B, T, V) · W_x. Every pass starts from zero state
/// (<see cref="CarryMode.None"/>), as the peers do.
/// </summary>
public sealed class OursComposedCharLm : ICharLmStep
{
    private readonly CharLmShape _shape;
    private readonly RecurrentLayer<float> _layer;
    private readonly Sgd<float> _sgd;

    public OursComposedCharLm(CharLmShape shape, CellKind cell)
    {
        _shape = shape;
        var options = new RecurrentOptions { Carry = CarryMode.None, Seed = 1 };
        _layer = cell switch
        {
            CellKind.Rnn => new RnnLayer<float>(shape.H, shape.V, options),
            CellKind.Gru => new GruLayer<float>(shape.H, shape.V, options),
            CellKind.Lstm => new LstmLayer<float>(shape.H, shape.V, options),
            _ => throw new ArgumentOutOfRangeException(nameof(cell), cell, "OursComposedCharLm: unknown cell."),
        };
        _layer.Build(shape.V);
        _sgd = new Sgd<float>(_layer.Parameters(), 0.01f);
    }

    public float Step()
    {
        _sgd.ZeroGrad();
        var logits = _layer.ForwardOneHot(_shape.Ids, _shape.B, _shape.T, _shape.V);   // (B, T, V)
        var loss = Losses.CrossEntropy(logits, _shape.Targets);
        loss.Backward();
        _sgd.Step();
        // Gives the (B, T, V) output's buffer to the next step (the peers' steps run in a TorchSharp dispose scope).
        logits.Dispose();
        return loss.Item();
    }

    public void Dispose() { }
}
