using System.Numerics;
using Autograd;

namespace Autograd.Nn;

/// <summary>Options for <see cref="Adam{T}"/> (PyTorch's defaults).</summary>
public sealed record AdamOptions(double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0);

/// <summary>
/// Adam (Kingma &amp; Ba), as PyTorch's: g ← ∇ + λp; m ← β₁m + (1-β₁)g; v ← β₂v + (1-β₂)g²;
/// p ← p - lr · (m / (1-β₁ᵗ)) / (√(v / (1-β₂ᵗ)) + ε), with t the parameter's own step count
/// (<see cref="Optimizer{T}.ParameterStepCount"/>).
/// </summary>
public sealed class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T _b1, _b2, _eps, _decay;

    /// <summary>An optimizer for <paramref name="parameters"/> (their gradients are read at each <see cref="Optimizer{T}.Step"/>).</summary>
    /// <param name="parameters">The tensors to update, e.g. <see cref="Module{T}.Parameters"/>; the list is fixed here.</param>
    /// <param name="learningRate">The step size (finite, ≥ 0); <see cref="Optimizer{T}.LearningRate"/> may change it later.</param>
    /// <param name="options">Null for the defaults (<see cref="AdamOptions"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">No parameters (e.g. a lazily built model before its first Forward), a null parameter, or a parameter listed twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A β outside [0, 1), a non-positive ε, a negative weight decay, or a bad learning rate.</exception>
    public Adam(IEnumerable<Tensor<T>> parameters, T learningRate, AdamOptions? options = null)
        : base(parameters, learningRate, ["m", "v"])
    {
        var o = options ?? new AdamOptions();
        if (!(o.Beta1 >= 0 && o.Beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(options), o.Beta1, "Adam: beta1 must be in [0, 1).");
        if (!(o.Beta2 >= 0 && o.Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(options), o.Beta2, "Adam: beta2 must be in [0, 1).");
        if (!(o.Epsilon > 0 && double.IsFinite(o.Epsilon))) throw new ArgumentOutOfRangeException(nameof(options), o.Epsilon, "Adam: epsilon must be finite and > 0.");
        if (!(o.WeightDecay >= 0 && double.IsFinite(o.WeightDecay))) throw new ArgumentOutOfRangeException(nameof(options), o.WeightDecay, "Adam: weight decay must be finite and >= 0.");
        (_b1, _b2, _eps, _decay) = (T.CreateChecked(o.Beta1), T.CreateChecked(o.Beta2), T.CreateChecked(o.Epsilon), T.CreateChecked(o.WeightDecay));
        Options = o;
    }

    /// <summary>The options in force.</summary>
    public AdamOptions Options { get; }

    /// <inheritdoc />
    protected override bool UsesStepCounts => true;

    /// <inheritdoc />
    protected override void Update(int index, Tensor<T> parameter, Tensor<T> gradient)
    {
        // Bias correction by the parameter's own step count, as PyTorch's: a parameter first updated at a
        // later step is corrected as at its first.
        T t = T.CreateChecked(ParameterStepCount(index));
        ParameterUpdate.Adam(parameter, gradient, Slot("m", index), Slot("v", index), LearningRate, _b1, _b2, _eps, _decay,
            T.One - T.Pow(_b1, t), T.One - T.Pow(_b2, t));
    }
}
