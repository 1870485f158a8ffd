using System.Numerics;
using Autograd.Backends;

namespace Autograd.Nn;

/// <summary>
/// The seed's GRU layer (update-gate typo fixed): r = σ(x·W_xr + H·W_hr + B_r),
/// u = σ(x·W_xu + H·W_hu + B_u), h̄ = tanh(x·W_xh + (r ⊙ H)·W_hh + B_h),
/// H_out = u ⊙ H + (1 - u) ⊙ h̄, X_out = H_out·W_v + B_v. With
/// <see cref="RecurrentOptions.GruResetAfter"/>, h̄ = tanh(x·W_xh + B_h + r ⊙ (H·W_hh)) instead.
/// Parameters W_xr, W_xu, W_xh (F, H); W_hr, W_hu, W_hh (H, H); B_r, B_u, B_h (1, H); W_v (H, O); B_v (1, O).
/// With <see cref="RecurrentOptions.RecurrentBias"/> also B_hr, B_hu, B_hh (1, H): B_hr and B_hu add to
/// B_r and B_u; B_hh adds to H·W_hh, inside the reset product in the reset-after form
/// (h̄ = tanh(x·W_xh + B_h + r ⊙ (H·W_hh + B_hh)), PyTorch's <c>nn.GRU</c> with its <c>b_hn</c>).
/// </summary>
public sealed class GruLayer<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>[] _wx = [], _wh = [], _b = [], _bh = [];

    /// <inheritdoc cref="RecurrentLayer{T}(int, int, RecurrentOptions?)"/>
    public GruLayer(int hiddenSize, int outputSize, RecurrentOptions? options = null) : base(hiddenSize, outputSize, options) { }

    /// <inheritdoc cref="RecurrentLayer{T}(int, RecurrentOptions?)"/>
    public GruLayer(int hiddenSize, RecurrentOptions? options = null) : base(hiddenSize, options) { }

    /// <inheritdoc />
    public override RecurrentCell Cell => GruCell.Instance;

    private protected override void CreateParameters(int inputSize, Random random)
    {
        _wx = [InputWeight(random, inputSize, inputSize), InputWeight(random, inputSize, inputSize), InputWeight(random, inputSize, inputSize)];
        _wh = [RecurrentWeight(random, HiddenSize), RecurrentWeight(random, HiddenSize), RecurrentWeight(random, HiddenSize)];
        _b = [Bias(random, inputSize), Bias(random, inputSize), Bias(random, inputSize)];
        _bh = RecurrentBiases(random, 3, inputSize);
    }

    private protected override IEnumerable<(string Name, Tensor<T> Parameter)> CellParameters()
    {
        var gates = GruCell.Instance.GateNames;
        for (int g = 0; g < 3; g++) yield return ("W_x" + gates[g], _wx[g]);
        for (int g = 0; g < 3; g++) yield return ("W_h" + gates[g], _wh[g]);
        for (int g = 0; g < 3; g++) yield return ("B_" + gates[g], _b[g]);
        for (int g = 0; g < _bh.Length; g++) yield return ("B_h" + gates[g], _bh[g]);
    }

    private protected override IReadOnlyList<CellGate<T>> CellGates()
    {
        var gates = GruCell.Instance.GateNames;
        return [.. Enumerable.Range(0, 3).Select(g => new CellGate<T>(gates[g], new(_wx[g], 0, InputSize!.Value), new(_wh[g], 0, HiddenSize), _b[g], _bh.Length == 0 ? null : _bh[g]))];
    }

    private bool ResetAfterBias => Options.GruResetAfter && _bh.Length > 0;

    private protected override (Tensor<T> Weight, Tensor<T> Bias) InputProjection()
    {
        var bias = Tensor.Concat(1, _b);
        if (_bh.Length > 0)
        {
            // Every recurrent bias adds outside the reset product except the candidate's in the reset-after form.
            var recurrent = ResetAfterBias ? Tensor.Concat(1, _bh[0], _bh[1], Tensor.Zeros<T>(1, HiddenSize)) : Tensor.Concat(1, _bh);
            bias += recurrent;
        }
        return (Tensor.Concat(1, _wx), bias);
    }

    private protected override IRecurrentStep<T> CreateStep() => Options.GruResetAfter
        ? new ResetAfterStep(Tensor.Concat(1, _wh), ResetAfterBias ? _bh[2] : null, HiddenSize)
        : new ResetBeforeStep(Tensor.Concat(1, _wh[0], _wh[1]), _wh[2], HiddenSize);

    // The gate nonlinearities and the state update as pointwise ops (one pass forward, one for all gradients):
    // r, u = σ(x_ru + h·W_hru); h̄ = tanh(x_h + m) with m the candidate's recurrent term; H_out = h̄ + u ⊙ (h − h̄),
    // i.e. u ⊙ h + (1 − u) ⊙ h̄.
    private static readonly PointwiseFunction SigmoidOfSum = PointwiseFunction.Compile((x, hw) => Expr.Sigmoid(x + hw));
    private static readonly PointwiseFunction Update = PointwiseFunction.Compile((xh, m, u, h) => Expr.Tanh(xh + m) + u * (h - Expr.Tanh(xh + m)));

    // x holds [x·W_xr + B_r, x·W_xu + B_u, x·W_xh + B_h] side by side.
    private sealed class ResetBeforeStep(Tensor<T> whru, Tensor<T> whh, int hidden) : IRecurrentStep<T>
    {
        void IRecurrentStep<T>.Step(Tensor<T> x, Tensor<T>[] state)
        {
            var h = state[0];
            var ru = Tensor.Pointwise(SigmoidOfSum, x.Slice(1, 0, 2 * hidden), h.MatMul(whru));
            var r = ru.Slice(1, 0, hidden);
            var u = ru.Slice(1, hidden, hidden);
            state[0] = Tensor.Pointwise(Update, x.Slice(1, 2 * hidden, hidden), (r * h).MatMul(whh), u, h);
        }
    }

    private sealed class ResetAfterStep(Tensor<T> whruh, Tensor<T>? bhh, int hidden) : IRecurrentStep<T>
    {
        void IRecurrentStep<T>.Step(Tensor<T> x, Tensor<T>[] state)
        {
            var h = state[0];
            var hp = h.MatMul(whruh);
            var ru = Tensor.Pointwise(SigmoidOfSum, x.Slice(1, 0, 2 * hidden), hp.Slice(1, 0, 2 * hidden));
            var r = ru.Slice(1, 0, hidden);
            var u = ru.Slice(1, hidden, hidden);
            var hh = hp.Slice(1, 2 * hidden, hidden);
            if (bhh is not null) hh += bhh;
            state[0] = Tensor.Pointwise(Update, x.Slice(1, 2 * hidden, hidden), r * hh, u, h);
        }
    }
}

/// <summary>
/// GRU: gates <c>r</c> (reset), <c>u</c> (update), <c>h</c> (candidate); state <c>h</c>; ONNX <c>GRU</c>
/// (its z is our u: both keep the old state where the gate is 1; <c>linear_before_reset</c> = the reset-after form),
/// PyTorch <c>nn.GRU</c> (r, z, n = our r, u, h; reset-after only).
/// </summary>
internal sealed class GruCell() : RecurrentCell(CellKind.Gru, "gru", ["r", "u", "h"], ["h"], onnx: ("GRU", ["u", "r", "h"]), pyTorch: ("GRU", ["r", "u", "h"]))
{
    public static readonly GruCell Instance = new();

    private protected override Testing.SeedReferenceCell SeedReferenceCore(int inputSize, int hiddenSize, int outputSize, RecurrentOptions options)
        => new(Reference.ReferenceCellKind.Gru, inputSize, hiddenSize, outputSize, options.GruResetAfter);

    private protected override IReadOnlyList<(string Name, long Value)> OnnxAttributesCore(RecurrentOptions options)
        => [("linear_before_reset", options.GruResetAfter ? 1L : 0L)];

    private protected override string DescribeOptionsCore(RecurrentOptions options) => options.GruResetAfter ? "reset_after=true" : "reset_after=false";

    private protected override string? PyTorchIncompatibilityCore(RecurrentOptions options) => options.GruResetAfter
        ? null
        : "PyTorch's nn.GRU applies the reset gate after the hidden matmul; this layer uses the seed's reset-before form (set RecurrentOptions.GruResetAfter)";

    private protected override IReadOnlyList<(string Name, int[] Shape)> ParametersCore(int inputSize, int hiddenSize, RecurrentOptions options)
        => SplitLayout(GateNames, inputSize, hiddenSize, options.RecurrentBias);

    public override RecurrentLayer<T> CreateLayer<T>(int hiddenSize, int outputSize, RecurrentOptions? options = null) => new GruLayer<T>(hiddenSize, outputSize, options);

    public override RecurrentLayer<T> CreateLayer<T>(int hiddenSize, RecurrentOptions? options = null) => new GruLayer<T>(hiddenSize, options);
}
