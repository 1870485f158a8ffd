using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// The seed's LSTM layer. With Z = [x, H_in]: f = σ(Z·W_f + B_f), i = σ(Z·W_i + B_i),
/// C̄ = tanh(Z·W_c + B_c), o = σ(Z·W_o + B_o), C_out = f ⊙ C_in + i ⊙ C̄, H_out = o ⊙ tanh(C_out),
/// X_out = H_out·W_v + B_v. Parameters W_f, W_i, W_c, W_o (F+H, H); B_f, B_i, B_c, B_o (1, H);
/// W_v (H, O); B_v (1, O). The four gates run as one fused matmul each step.
/// </summary>
public sealed class LstmLayer<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T> _wf = null!, _wi = null!, _wc = null!, _wo = null!;
    private Tensor<T> _bf = null!, _bi = null!, _bc = null!, _bo = null!;

    /// <inheritdoc cref="RecurrentLayer{T}(int, int, RecurrentOptions?)"/>
    public LstmLayer(int hiddenSize, int outputSize, RecurrentOptions? options = null) : base(hiddenSize, outputSize, options) { }

    /// <inheritdoc />
    public override CellKind Kind => CellKind.Lstm;

    /// <inheritdoc />
    protected override void CreateParameters(int inputSize, Random random)
    {
        _wf = StackedWeight(random, inputSize);
        _wi = StackedWeight(random, inputSize);
        _wc = StackedWeight(random, inputSize);
        _wo = StackedWeight(random, inputSize);
        int fanIn = inputSize + HiddenSize;
        _bf = Options.ForgetGateBias is double fb ? Tensor.Full(T.CreateChecked(fb), 1, HiddenSize) : Bias(random, fanIn);
        _bi = Bias(random, fanIn);
        _bc = Bias(random, fanIn);
        _bo = Bias(random, fanIn);
    }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, Tensor<T> Parameter)> CellParameters() =>
        [("W_f", _wf), ("W_i", _wi), ("W_c", _wc), ("W_o", _wo), ("B_f", _bf), ("B_i", _bi), ("B_c", _bc), ("B_o", _bo)];

    internal override int? InferInputSize(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
        => state.TryGetValue(prefix + "W_f", out var w) && w.Rank == 2 ? w.Size(0) - HiddenSize : null;

    private Tensor<T> Fused(int start, int length)
        => Tensor.Concat(1, _wf.Slice(0, start, length), _wi.Slice(0, start, length), _wc.Slice(0, start, length), _wo.Slice(0, start, length));

    /// <inheritdoc />
    protected override (Tensor<T> Weight, Tensor<T> Bias) InputProjection()
        => (Fused(0, InputSize!.Value), Tensor.Concat(1, _bf, _bi, _bc, _bo));

    /// <inheritdoc />
    protected override IRecurrentStep<T> CreateStep() => new Step(Fused(InputSize!.Value, HiddenSize));

    private sealed class Step(Tensor<T> wh) : IRecurrentStep<T>
    {
        (Tensor<T> H, Tensor<T>? C) IRecurrentStep<T>.Step(Tensor<T> x, Tensor<T> h, Tensor<T>? c)
        {
            var gates = (x + h.MatMul(wh)).Chunk(4, 1);
            var f = gates[0].Sigmoid();
            var i = gates[1].Sigmoid();
            var cBar = gates[2].Tanh();
            var o = gates[3].Sigmoid();
            var cOut = f * c! + i * cBar;
            return (o * cOut.Tanh(), cOut);
        }
    }
}
