using System.Numerics;
using Autograd;

namespace Autograd.Nn;

/// <summary>Options for <see cref="Sgd{T}"/>.</summary>
/// <param name="Momentum">μ ≥ 0; 0 is the seed's plain SGD.</param>
/// <param name="WeightDecay">L2 penalty λ ≥ 0 added to the gradient as λ·p.</param>
/// <param name="Nesterov">Nesterov momentum (needs μ &gt; 0).</param>
public sealed record SgdOptions(double Momentum = 0, double WeightDecay = 0, bool Nesterov = false);

/// <summary>
/// Stochastic gradient descent, as PyTorch's: g ← ∇ + λp; with momentum v ← μv + g (v starts at 0),
/// and the step is g, v, or g + μv (Nesterov); p ← p - lr·step.
/// </summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T _momentum, _decay;
    private readonly bool _nesterov;

    /// <summary>An optimizer for <paramref name="parameters"/> (their gradients are read at each <see cref="Optimizer{T}.Step"/>).</summary>
    /// <param name="parameters">The tensors to update, e.g. <see cref="Module{T}.Parameters"/>; the list is fixed here.</param>
    /// <param name="learningRate">The step size (finite, ≥ 0); <see cref="Optimizer{T}.LearningRate"/> may change it later.</param>
    /// <param name="options">Null for the defaults (<see cref="SgdOptions"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">No parameters (e.g. a lazily built model before its first Forward), a null parameter, or a parameter listed twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite learning rate, momentum or weight decay.</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum (PyTorch refuses it too: it would silently be plain SGD).</exception>
    public Sgd(IEnumerable<Tensor<T>> parameters, T learningRate, SgdOptions? options = null)
        : base(parameters, learningRate, ["momentum"])
    {
        var o = options ?? new SgdOptions();
        if (!(o.Momentum >= 0 && double.IsFinite(o.Momentum))) throw new ArgumentOutOfRangeException(nameof(options), o.Momentum, "Sgd: momentum must be finite and >= 0.");
        if (!(o.WeightDecay >= 0 && double.IsFinite(o.WeightDecay))) throw new ArgumentOutOfRangeException(nameof(options), o.WeightDecay, "Sgd: weight decay must be finite and >= 0.");
        if (o.Nesterov && o.Momentum == 0) throw new ArgumentException("Sgd: Nesterov momentum needs a momentum > 0.", nameof(options));
        _momentum = T.CreateChecked(o.Momentum);
        _decay = T.CreateChecked(o.WeightDecay);
        _nesterov = o.Nesterov;
        Options = o;
    }

    /// <summary>The options in force.</summary>
    public SgdOptions Options { get; }

    /// <inheritdoc />
    protected override void Update(int index, Tensor<T> parameter, Tensor<T> gradient)
        => ParameterUpdate.Sgd(parameter, gradient, _momentum != T.Zero ? Slot("momentum", index) : null, LearningRate, _momentum, _decay, _nesterov);
}
