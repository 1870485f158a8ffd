using System.Numerics;

namespace Autograd;

/// <summary>
/// Fused, unrecorded optimizer updates applied in place to a parameter, its gradient and its
/// state buffers (all of the parameter's shape). Optimizers in <c>Autograd.Nn</c> are built on these.
/// </summary>
public static class ParameterUpdate
{
    /// <summary>
    /// SGD as PyTorch's: g ← ∇ + λp; with momentum μ &gt; 0, v ← μv + g and the step is v (or g + μv with
    /// Nesterov); p ← p − lr·step. <paramref name="velocity"/> is read and written only when μ &gt; 0.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor's shape differs from the parameter's, or μ &gt; 0 without a velocity buffer.</exception>
    public static void Sgd<T>(Tensor<T> parameter, Tensor<T> gradient, Tensor<T>? velocity, T learningRate, T momentum, T weightDecay, bool nesterov)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSame("Sgd", parameter, gradient, nameof(gradient));
        if (momentum != T.Zero)
        {
            if (velocity is null) throw new ArgumentException("ParameterUpdate.Sgd: momentum needs a velocity buffer.", nameof(velocity));
            CheckSame("Sgd", parameter, velocity, nameof(velocity));
        }
        Tensor<T>.K.Sgd(parameter.Buffer, gradient.Buffer, velocity?.Buffer ?? default, learningRate, momentum, weightDecay, nesterov);
        parameter.Storage.Touch();
        velocity?.Storage.Touch();
    }

    /// <summary>
    /// Adam as PyTorch's: g ← ∇ + λp; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
    /// p ← p − lr · (m / c₁) / (√(v / c₂) + ε), with the bias corrections c₁ = 1 − β₁ᵗ and c₂ = 1 − β₂ᵗ
    /// for this parameter's step count t.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor's shape differs from the parameter's.</exception>
    public static void Adam<T>(Tensor<T> parameter, Tensor<T> gradient, Tensor<T> firstMoment, Tensor<T> secondMoment,
        T learningRate, T beta1, T beta2, T epsilon, T weightDecay, T biasCorrection1, T biasCorrection2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSame("Adam", parameter, gradient, nameof(gradient));
        CheckSame("Adam", parameter, firstMoment, nameof(firstMoment));
        CheckSame("Adam", parameter, secondMoment, nameof(secondMoment));
        Tensor<T>.K.Adam(parameter.Buffer, gradient.Buffer, firstMoment.Buffer, secondMoment.Buffer,
            learningRate, beta1, beta2, epsilon, weightDecay, biasCorrection1, biasCorrection2);
        parameter.Storage.Touch();
        firstMoment.Storage.Touch();
        secondMoment.Storage.Touch();
    }

    private static void CheckSame<T>(string op, Tensor<T> parameter, Tensor<T> other, string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(other, name);
        if (!ShapeUtil.SameShape(parameter.Shape, other.Shape))
            throw new ArgumentException($"ParameterUpdate.{op}: {name} has shape {ShapeUtil.Format(other.Shape)}, the parameter {ShapeUtil.Format(parameter.Shape)}.", name);
    }
}
