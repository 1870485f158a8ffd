using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Swaps the last two axes: (..., m, n) → (..., n, m). The gradient is transposed back.</summary>
    /// <exception cref="ArgumentException">Rank below 2.</exception>
    public Tensor<T> Transpose()
    {
        if (Rank < 2)
            throw new ArgumentException($"Transpose: needs rank >= 2, got shape {ShapeUtil.Format(_shape)}.");
        int[] outShape = [.. _shape[..^2], _shape[^1], _shape[^2]];
        var r = Uninitialized(outShape);
        int m = _shape[^2], n = _shape[^1];
        K.Transpose(Buffer, r.Buffer, m * n == 0 ? 0 : Length / (m * n), m, n, accumulate: false);
        return ShouldRecord(this) ? r.WithCreator(new TransposeNode(this)) : r;
    }

    private sealed class TransposeNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Transpose";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            int m = output._shape[^2], n = output._shape[^1];
            var dx = Inputs[0].GradBufferFor(out bool accumulate);
            K.Transpose(g, dx, m * n == 0 ? 0 : output.Length / (m * n), m, n, accumulate);
        }
    }
}
