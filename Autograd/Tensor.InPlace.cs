using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

// In-place operations that are never recorded: for optimizers, gradient clipping and state loading.
public sealed partial class Tensor<T>
{
    /// <summary>Multiplies every element by <paramref name="factor"/> in place, without recording anything.</summary>
    public void MultiplyInPlace(T factor) => TP.Multiply(Span, factor, Span);

    /// <summary>Clamps every element to [<paramref name="min"/>, <paramref name="max"/>] in place, without recording anything.</summary>
    /// <exception cref="ArgumentException"><paramref name="min"/> is greater than <paramref name="max"/>.</exception>
    public void ClampInPlace(T min, T max)
    {
        if (min > max) throw new ArgumentException($"ClampInPlace: min {min} is greater than max {max}.", nameof(min));
        TP.Min(Span, max, Span);
        TP.Max(Span, min, Span);
    }

    /// <summary>Sets every element to <paramref name="value"/>, without recording anything.</summary>
    public void Fill(T value) => Span.Fill(value);

    /// <summary>Σ x², accumulated in double (finite even where the float sum of squares would overflow).</summary>
    public double SquaredNorm()
    {
        double sum = 0;
        foreach (var x in Span)
        {
            double d = double.CreateTruncating(x);
            sum += d * d;
        }
        return sum;
    }
}
