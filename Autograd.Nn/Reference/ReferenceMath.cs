using System.Numerics;

namespace Autograd.Nn.Reference;

/// <summary>
/// Naive row-major loops for the reference oracles. Deliberately independent of the engine's
/// kernels (no Gemm, no TensorPrimitives) so that a kernel bug cannot hide in both sides of a check.
/// </summary>
internal static class ReferenceMath
{
    /// <summary>C (m×n) += A (m×k) · B (k×n).</summary>
    public static void MatMulAdd<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
            {
                T s = a[i * k + p];
                for (int j = 0; j < n; j++) c[i * n + j] += s * b[p * n + j];
            }
    }

    /// <summary>C (m×n) += Aᵀ · B with A stored (k×m), B stored (k×n): a weight gradient <c>Xᵀ · dA</c>.</summary>
    public static void MatMulTransAAdd<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = 0; p < k; p++)
            for (int i = 0; i < m; i++)
            {
                T s = a[p * m + i];
                for (int j = 0; j < n; j++) c[i * n + j] += s * b[p * n + j];
            }
    }

    /// <summary>C (m×n) += A · Bᵀ with A stored (m×k), B stored (n×k): an input gradient <c>dA · Wᵀ</c>.</summary>
    public static void MatMulTransBAdd<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, int m, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
                c[i * n + j] += s;
            }
    }

    /// <summary>Every row of C (m×n) += <paramref name="row"/> (1×n): a broadcast bias.</summary>
    public static void AddRowToEach<T>(Span<T> c, ReadOnlySpan<T> row, int m, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[i * n + j] += row[j];
    }

    /// <summary><paramref name="sum"/> (1×n) += the column sums of A (m×n): a bias gradient.</summary>
    public static void SumRowsAdd<T>(ReadOnlySpan<T> a, Span<T> sum, int m, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) sum[j] += a[i * n + j];
    }

    /// <summary>1 / (1 + e^-x); saturates to exactly 0 or 1 without NaN.</summary>
    public static T Sigmoid<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
        => T.One / (T.One + T.Exp(-x));

    /// <summary>The batch size implied by <c>x</c> (B×features) and <c>h</c> (B×hidden); throws with the method's name on a mismatch.</summary>
    public static int BatchOf(int xLength, int features, int hLength, int hidden, string method)
    {
        if (features <= 0 || xLength == 0 || xLength % features != 0)
            throw new ArgumentException($"{method}: x has {xLength} elements, not a positive multiple of the input size {features} (expected shape (B, {features})).");
        int batch = xLength / features;
        if (hLength != batch * hidden)
            throw new ArgumentException($"{method}: x has shape ({batch}, {features}) so the hidden state must have shape ({batch}, {hidden}) = {batch * hidden} elements, but it has {hLength}.");
        return batch;
    }

    /// <summary>Throws unless <paramref name="length"/> equals <paramref name="expected"/>, naming the method, the argument and the shape.</summary>
    public static void CheckLength(int length, int expected, string method, string argument, string shape)
    {
        if (length != expected)
            throw new ArgumentException($"{method}: {argument} has {length} elements but shape {shape} needs {expected}.", argument);
    }
}
