using System.Numerics;
using Autograd.Backends;

namespace Autograd.Nn;

/// <summary>
/// The seed's LSTM layer. With Z = [x, H_in]: f = σ(Z·W_f + B_f), i = σ(Z·W_i + B_i),
/// C̄ = tanh(Z·W_c + B_c), o = σ(Z·W_o + B_o), C_out = f ⊙ C_in + i ⊙ C̄, H_out = o ⊙ tanh(C_out),
/// X_out = H_out·W_v + B_v. Parameters W_f, W_i, W_c, W_o (F+H, H); B_f, B_i, B_c, B_o (1, H);
/// W_v (H, O); B_v (1, O); with <see cref="RecurrentOptions.RecurrentBias"/> also B_hf, B_hi, B_hc,
/// B_ho (1, H), added to the gate biases. Without an output size the output is H_out itself:
/// PyTorch's <c>nn.LSTM</c>. The four gates run as one fused matmul each step.
/// </summary>
public sealed class LstmLayer<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>[] _w = [], _b = [], _bh = [];

    /// <inheritdoc cref="RecurrentLayer{T}(int, int, RecurrentOptions?)"/>
    public LstmLayer(int hiddenSize, int outputSize, RecurrentOptions? options = null) : base(hiddenSize, outputSize, options) { }

    /// <inheritdoc cref="RecurrentLayer{T}(int, RecurrentOptions?)"/>
    public LstmLayer(int hiddenSize, RecurrentOptions? options = null) : base(hiddenSize, options) { }

    /// <inheritdoc />
    public override RecurrentCell Cell => LstmCell.Instance;

    private protected override void CreateParameters(int inputSize, Random random)
    {
        _w = [StackedWeight(random, inputSize), StackedWeight(random, inputSize), StackedWeight(random, inputSize), StackedWeight(random, inputSize)];
        int fanIn = inputSize + HiddenSize;
        var bf = Options.ForgetGateBias is double fb ? Tensor.Full(T.CreateChecked(fb), 1, HiddenSize) : Bias(random, fanIn);
        _b = [bf, Bias(random, fanIn), Bias(random, fanIn), Bias(random, fanIn)];
        _bh = RecurrentBiases(random, 4, fanIn);
    }

    private protected override IEnumerable<(string Name, Tensor<T> Parameter)> CellParameters()
    {
        var gates = LstmCell.Instance.GateNames;
        for (int g = 0; g < 4; g++) yield return ("W_" + gates[g], _w[g]);
        for (int g = 0; g < 4; g++) yield return ("B_" + gates[g], _b[g]);
        for (int g = 0; g < _bh.Length; g++) yield return ("B_h" + gates[g], _bh[g]);
    }

    private protected override IReadOnlyList<CellGate<T>> CellGates()
    {
        var gates = LstmCell.Instance.GateNames;
        int f = InputSize!.Value;
        return [.. Enumerable.Range(0, 4).Select(g => new CellGate<T>(gates[g], new(_w[g], 0, f), new(_w[g], f, HiddenSize), _b[g], _bh.Length == 0 ? null : _bh[g]))];
    }

    private Tensor<T> Fused(int start, int length)
        => Tensor.Concat(1, _w[0].Slice(0, start, length), _w[1].Slice(0, start, length), _w[2].Slice(0, start, length), _w[3].Slice(0, start, length));

    private protected override (Tensor<T> Weight, Tensor<T> Bias) InputProjection()
    {
        var bias = Tensor.Concat(1, _b);
        return (Fused(0, InputSize!.Value), _bh.Length == 0 ? bias : bias + Tensor.Concat(1, _bh));
    }

    private protected override IRecurrentStep<T> CreateStep() => new Step(Fused(InputSize!.Value, HiddenSize));

    private sealed class Step(Tensor<T> wh) : IRecurrentStep<T>
    {
        // The gate nonlinearities and state updates fused into two pointwise ops (derivatives are symbolic).
        private static readonly PointwiseFunction CellState = PointwiseFunction.Compile((f, i, c, cIn) => Expr.Sigmoid(f) * cIn + Expr.Sigmoid(i) * Expr.Tanh(c));
        private static readonly PointwiseFunction Hidden = PointwiseFunction.Compile((o, cOut) => Expr.Sigmoid(o) * Expr.Tanh(cOut));

        void IRecurrentStep<T>.Step(Tensor<T> x, Tensor<T>[] state)
        {
            var gates = (x + state[0].MatMul(wh)).Chunk(4, 1);
            var cOut = Tensor.Pointwise(CellState, gates[0], gates[1], gates[2], state[1]);
            state[0] = Tensor.Pointwise(Hidden, gates[3], cOut);
            state[1] = cOut;
        }
    }
}

/// <summary>LSTM: gates <c>f</c>, <c>i</c>, <c>c</c> (candidate), <c>o</c>; state <c>h</c>, <c>c</c>; ONNX <c>LSTM</c>, PyTorch <c>nn.LSTM</c>.</summary>
internal sealed class LstmCell() : RecurrentCell(CellKind.Lstm, "lstm", ["f", "i", "c", "o"], ["h", "c"], onnx: ("LSTM", ["i", "o", "f", "c"]), pyTorch: ("LSTM", ["i", "f", "c", "o"]))
{
    public static readonly LstmCell Instance = new();

    private protected override Testing.SeedReferenceCell SeedReferenceCore(int inputSize, int hiddenSize, int outputSize, RecurrentOptions options)
        => new(Reference.ReferenceCellKind.Lstm, inputSize, hiddenSize, outputSize);

    private protected override IReadOnlyList<(string Name, int[] Shape)> ParametersCore(int inputSize, int hiddenSize, RecurrentOptions options)
        => StackedLayout(GateNames, inputSize, hiddenSize, options.RecurrentBias);

    public override RecurrentLayer<T> CreateLayer<T>(int hiddenSize, int outputSize, RecurrentOptions? options = null) => new LstmLayer<T>(hiddenSize, outputSize, options);

    public override RecurrentLayer<T> CreateLayer<T>(int hiddenSize, RecurrentOptions? options = null) => new LstmLayer<T>(hiddenSize, options);
}
