using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// The seed's vanilla RNN layer: H_out = tanh([x, H_in]·W_f + B_f), X_out = H_out·W_v + B_v.
/// Parameters W_f (F+H, H), B_f (1, H), W_v (H, O), B_v (1, O).
/// </summary>
public sealed class RnnLayer<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T> _wf = null!, _bf = null!;

    /// <inheritdoc cref="RecurrentLayer{T}(int, int, RecurrentOptions?)"/>
    public RnnLayer(int hiddenSize, int outputSize, RecurrentOptions? options = null) : base(hiddenSize, outputSize, options) { }

    /// <inheritdoc />
    public override CellKind Kind => CellKind.Rnn;

    internal override double SeedStd(int fanIn, int fanOut) => 2.0 / (fanIn + fanOut);

    /// <inheritdoc />
    protected override void CreateParameters(int inputSize, Random random)
    {
        _wf = StackedWeight(random, inputSize);
        _bf = Bias(random, inputSize + HiddenSize);
    }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, Tensor<T> Parameter)> CellParameters() => [("W_f", _wf), ("B_f", _bf)];

    internal override int? InferInputSize(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
        => state.TryGetValue(prefix + "W_f", out var w) && w.Rank == 2 ? w.Size(0) - HiddenSize : null;

    /// <inheritdoc />
    protected override (Tensor<T> Weight, Tensor<T> Bias) InputProjection() => (_wf.Slice(0, 0, InputSize!.Value), _bf);

    /// <inheritdoc />
    protected override IRecurrentStep<T> CreateStep() => new Step(_wf.Slice(0, InputSize!.Value, HiddenSize));

    private sealed class Step(Tensor<T> wh) : IRecurrentStep<T>
    {
        (Tensor<T> H, Tensor<T>? C) IRecurrentStep<T>.Step(Tensor<T> x, Tensor<T> h, Tensor<T>? c)
            => ((x + h.MatMul(wh)).Tanh(), null);
    }
}
