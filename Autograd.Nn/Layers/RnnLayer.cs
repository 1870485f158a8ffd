using System.Numerics;
using Autograd.Backends;

namespace Autograd.Nn;

/// <summary>
/// The seed's vanilla RNN layer: H_out = tanh([x, H_in]·W_f + B_f), X_out = H_out·W_v + B_v.
/// Parameters W_f (F+H, H), B_f (1, H), W_v (H, O), B_v (1, O); with
/// <see cref="RecurrentOptions.RecurrentBias"/> also B_hf (1, H), added to B_f. Without an output
/// size the output is H_out itself: PyTorch's <c>nn.RNN</c> (tanh).
/// </summary>
public sealed class RnnLayer<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T> _wf = null!, _bf = null!;
    private Tensor<T>[] _bh = [];

    /// <inheritdoc cref="RecurrentLayer{T}(int, int, RecurrentOptions?)"/>
    public RnnLayer(int hiddenSize, int outputSize, RecurrentOptions? options = null) : base(hiddenSize, outputSize, options) { }

    /// <inheritdoc cref="RecurrentLayer{T}(int, RecurrentOptions?)"/>
    public RnnLayer(int hiddenSize, RecurrentOptions? options = null) : base(hiddenSize, options) { }

    /// <inheritdoc />
    public override RecurrentCell Cell => RnnCell.Instance;

    internal override double SeedStd(int fanIn, int fanOut) => 2.0 / (fanIn + fanOut);

    private protected override void CreateParameters(int inputSize, Random random)
    {
        _wf = StackedWeight(random, inputSize);
        _bf = Bias(random, inputSize + HiddenSize);
        _bh = RecurrentBiases(random, 1, inputSize + HiddenSize);
    }

    private protected override IEnumerable<(string Name, Tensor<T> Parameter)> CellParameters()
        => _bh.Length == 0 ? [("W_f", _wf), ("B_f", _bf)] : [("W_f", _wf), ("B_f", _bf), ("B_hf", _bh[0])];

    private protected override IReadOnlyList<CellGate<T>> CellGates()
        => [new("f", new(_wf, 0, InputSize!.Value), new(_wf, InputSize!.Value, HiddenSize), _bf, _bh.Length == 0 ? null : _bh[0])];

    private protected override (Tensor<T> Weight, Tensor<T> Bias) InputProjection()
        => (_wf.Slice(0, 0, InputSize!.Value), _bh.Length == 0 ? _bf : _bf + _bh[0]);

    private protected override IRecurrentStep<T> CreateStep() => new Step(_wf.Slice(0, InputSize!.Value, HiddenSize));

    private sealed class Step(Tensor<T> wh) : IRecurrentStep<T>
    {
        // tanh(x + h·W_h) as one pointwise op: one pass forward, one for both gradients.
        private static readonly PointwiseFunction TanhOfSum = PointwiseFunction.Compile((x, hw) => Expr.Tanh(x + hw));

        void IRecurrentStep<T>.Step(Tensor<T> x, Tensor<T>[] state) => state[0] = Tensor.Pointwise(TanhOfSum, x, state[0].MatMul(wh));
    }
}

/// <summary>The vanilla tanh RNN: one gate <c>f</c>, state <c>h</c>; ONNX <c>RNN</c>, PyTorch <c>nn.RNN</c>.</summary>
internal sealed class RnnCell() : RecurrentCell(CellKind.Rnn, "rnn", ["f"], ["h"], onnx: ("RNN", ["f"]), pyTorch: ("RNN", ["f"]))
{
    public static readonly RnnCell Instance = new();

    private protected override Testing.SeedReferenceCell SeedReferenceCore(int inputSize, int hiddenSize, int outputSize, RecurrentOptions options)
        => new(Reference.ReferenceCellKind.Rnn, inputSize, hiddenSize, outputSize);

    private protected override IReadOnlyList<(string Name, int[] Shape)> ParametersCore(int inputSize, int hiddenSize, RecurrentOptions options)
        => StackedLayout(GateNames, inputSize, hiddenSize, options.RecurrentBias);

    public override RecurrentLayer<T> CreateLayer<T>(int hiddenSize, int outputSize, RecurrentOptions? options = null) => new RnnLayer<T>(hiddenSize, outputSize, options);

    public override RecurrentLayer<T> CreateLayer<T>(int hiddenSize, RecurrentOptions? options = null) => new RnnLayer<T>(hiddenSize, options);
}
