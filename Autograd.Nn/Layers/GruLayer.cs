using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// The seed's GRU layer (update-gate typo fixed): r = σ(x·W_xr + H·W_hr + B_r),
/// u = σ(x·W_xu + H·W_hu + B_u), h̄ = tanh(x·W_xh + (r ⊙ H)·W_hh + B_h),
/// H_out = u ⊙ H + (1 - u) ⊙ h̄, X_out = H_out·W_v + B_v. With
/// <see cref="RecurrentOptions.GruResetAfter"/>, h̄ = tanh(x·W_xh + B_h + r ⊙ (H·W_hh)) instead.
/// Parameters W_xr, W_xu, W_xh (F, H); W_hr, W_hu, W_hh (H, H); B_r, B_u, B_h (1, H); W_v (H, O); B_v (1, O).
/// </summary>
public sealed class GruLayer<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T> _wxr = null!, _wxu = null!, _wxh = null!, _whr = null!, _whu = null!, _whh = null!;
    private Tensor<T> _br = null!, _bu = null!, _bh = null!;

    /// <inheritdoc cref="RecurrentLayer{T}(int, int, RecurrentOptions?)"/>
    public GruLayer(int hiddenSize, int outputSize, RecurrentOptions? options = null) : base(hiddenSize, outputSize, options) { }

    /// <inheritdoc />
    public override CellKind Kind => CellKind.Gru;

    /// <inheritdoc />
    protected override void CreateParameters(int inputSize, Random random)
    {
        _wxr = InputWeight(random, inputSize, inputSize);
        _wxu = InputWeight(random, inputSize, inputSize);
        _wxh = InputWeight(random, inputSize, inputSize);
        _whr = RecurrentWeight(random, HiddenSize);
        _whu = RecurrentWeight(random, HiddenSize);
        _whh = RecurrentWeight(random, HiddenSize);
        _br = Bias(random, inputSize);
        _bu = Bias(random, inputSize);
        _bh = Bias(random, inputSize);
    }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, Tensor<T> Parameter)> CellParameters() =>
        [("W_xr", _wxr), ("W_xu", _wxu), ("W_xh", _wxh), ("W_hr", _whr), ("W_hu", _whu), ("W_hh", _whh), ("B_r", _br), ("B_u", _bu), ("B_h", _bh)];

    internal override int? InferInputSize(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
        => state.TryGetValue(prefix + "W_xr", out var w) && w.Rank == 2 ? w.Size(0) : null;

    /// <inheritdoc />
    protected override (Tensor<T> Weight, Tensor<T> Bias) InputProjection()
        => (Tensor.Concat(1, _wxr, _wxu, _wxh), Tensor.Concat(1, _br, _bu, _bh));

    /// <inheritdoc />
    protected override IRecurrentStep<T> CreateStep() => Options.GruResetAfter
        ? new ResetAfterStep(Tensor.Concat(1, _whr, _whu, _whh), HiddenSize)
        : new ResetBeforeStep(Tensor.Concat(1, _whr, _whu), _whh, HiddenSize);

    // x holds [x·W_xr + B_r, x·W_xu + B_u, x·W_xh + B_h] side by side.
    private sealed class ResetBeforeStep(Tensor<T> whru, Tensor<T> whh, int hidden) : IRecurrentStep<T>
    {
        (Tensor<T> H, Tensor<T>? C) IRecurrentStep<T>.Step(Tensor<T> x, Tensor<T> h, Tensor<T>? c)
        {
            var ru = (x.Slice(1, 0, 2 * hidden) + h.MatMul(whru)).Sigmoid();
            var r = ru.Slice(1, 0, hidden);
            var u = ru.Slice(1, hidden, hidden);
            var hBar = (x.Slice(1, 2 * hidden, hidden) + (r * h).MatMul(whh)).Tanh();
            return (hBar + u * (h - hBar), null); // = u ⊙ H + (1 - u) ⊙ h̄
        }
    }

    private sealed class ResetAfterStep(Tensor<T> whruh, int hidden) : IRecurrentStep<T>
    {
        (Tensor<T> H, Tensor<T>? C) IRecurrentStep<T>.Step(Tensor<T> x, Tensor<T> h, Tensor<T>? c)
        {
            var hp = h.MatMul(whruh);
            var ru = (x.Slice(1, 0, 2 * hidden) + hp.Slice(1, 0, 2 * hidden)).Sigmoid();
            var r = ru.Slice(1, 0, hidden);
            var u = ru.Slice(1, hidden, hidden);
            var hBar = (x.Slice(1, 2 * hidden, hidden) + r * hp.Slice(1, 2 * hidden, hidden)).Tanh();
            return (hBar + u * (h - hBar), null);
        }
    }
}
