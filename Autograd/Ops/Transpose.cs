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
        TransposeInto(Span, r.Span, _shape[^2], _shape[^1], accumulate: false);
        return ShouldRecord(this) ? r.WithCreator(new TransposeNode(this)) : r;
    }

    /// <summary>dst (batch of n×m) (+)= src (batch of m×n) transposed.</summary>
    private static void TransposeInto(ReadOnlySpan<T> src, Span<T> dst, int m, int n, bool accumulate)
    {
        int block = m * n;
        for (int off = 0; off < src.Length; off += block)
        {
            var s = src.Slice(off, block);
            var d = dst.Slice(off, block);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    if (accumulate) d[j * m + i] += s[i * n + j];
                    else d[j * m + i] = s[i * n + j];
                }
        }
    }

    private sealed class TransposeNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Transpose";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
            => TransposeInto(g, Inputs[0].GradTarget, output._shape[^2], output._shape[^1], accumulate: true);
    }
}
