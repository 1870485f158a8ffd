using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

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
        var p = parameter.Span;
        using var buffer = new Scratch<T>(p.Length);
        var g = buffer.Span;
        if (weightDecay != T.Zero) TP.MultiplyAdd(p, weightDecay, gradient.Span, g);
        else gradient.Span.CopyTo(g);
        if (momentum != T.Zero)
        {
            var v = velocity!.Span;
            TP.MultiplyAdd(v, momentum, g, v);
            if (nesterov) TP.MultiplyAdd(v, momentum, g, g);
            else v.CopyTo(g);
        }
        TP.MultiplyAdd(g, -learningRate, p, p);
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
        var p = parameter.Span;
        using var buffer = new Scratch<T>(p.Length);
        using var buffer2 = new Scratch<T>(p.Length);
        var g = buffer.Span;
        if (weightDecay != T.Zero) TP.MultiplyAdd(p, weightDecay, gradient.Span, g);
        else gradient.Span.CopyTo(g);
        var m = firstMoment.Span;
        var v = secondMoment.Span;
        TP.Multiply(m, beta1, m);
        TP.MultiplyAdd(g, T.One - beta1, m, m);
        var g2 = buffer2.Span;
        TP.Multiply(g, g, g2);
        TP.Multiply(v, beta2, v);
        TP.MultiplyAdd(g2, T.One - beta2, v, v);
        TP.Multiply(v, T.One / biasCorrection2, g2);
        TP.Sqrt(g2, g2);
        TP.Add(g2, epsilon, g2);
        TP.Divide(m, g2, g);
        TP.MultiplyAdd(g, -learningRate / biasCorrection1, p, p);
    }

    private static void CheckSame<T>(string op, Tensor<T> parameter, Tensor<T> other, string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(other, name);
        if (!ShapeUtil.SameShape(parameter.Shape, other.Shape))
            throw new ArgumentException($"ParameterUpdate.{op}: {name} has shape {ShapeUtil.Format(other.Shape)}, the parameter {ShapeUtil.Format(parameter.Shape)}.", name);
    }
}
