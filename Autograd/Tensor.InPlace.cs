using System.Numerics;
using Autograd.Backends;

namespace Autograd;

// In-place operations that are never recorded: for optimizers, gradient clipping and state loading.
public sealed partial class Tensor<T>
{
    private static readonly ElementwiseProgram ScaleProgram = ElementwiseProgram.Compile(Expr.Input(0) * Expr.Input(1));

    /// <summary>Multiplies every element by <paramref name="factor"/> in place, without recording anything.</summary>
    public void MultiplyInPlace(T factor)
    {
        var k = K;
        using var f = new Scratch<T>(Length);
        k.Fill(f.Buffer, factor);
        k.Map(ScaleProgram, [Buffer, f.Buffer], Buffer, accumulate: false);
        _storage.Touch();
    }

    /// <summary>Clamps every element to [<paramref name="min"/>, <paramref name="max"/>] in place, without recording anything.</summary>
    /// <exception cref="ArgumentException"><paramref name="min"/> is greater than <paramref name="max"/>, or either is NaN.</exception>
    public void ClampInPlace(T min, T max)
    {
        if (!(min <= max)) throw new ArgumentException($"ClampInPlace: min {min} must not exceed max {max} (nor be NaN).", nameof(min));
        var program = ElementwiseProgram.Compile(Expr.Min(Expr.Max(Expr.Input(0), double.CreateTruncating(min)), double.CreateTruncating(max)));
        K.Map(program, [Buffer], Buffer, accumulate: false);
        _storage.Touch();
    }

    /// <summary>Sets every element to <paramref name="value"/>, without recording anything.</summary>
    public void Fill(T value)
    {
        K.Fill(Buffer, value);
        _storage.Touch();
    }

    /// <summary>Σ x², accumulated in double (finite even where the float sum of squares would overflow).</summary>
    public double SquaredNorm() => K.SquaredNorm(Buffer);
}
