using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Kernels;

/// <summary>
/// Row-major general matrix multiply, C (m×n) (+)= op(A) · op(B), with op = identity or transpose,
/// so backward never materialises a transpose. The single place matmul speed is decided.
/// </summary>
internal static class Gemm
{
    /// <param name="transA">A is stored (k×m) and used transposed; otherwise stored (m×k).</param>
    /// <param name="transB">B is stored (n×k) and used transposed; otherwise stored (k×n).</param>
    /// <param name="accumulate">Add into C instead of overwriting it.</param>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!accumulate) c.Slice(0, m * n).Clear();
        if (m == 0 || n == 0 || k == 0) return;

        if (!transA && !transB)
        {
            // C[i,:] += A[i,p] * B[p,:]: unit-stride inner loop over n.
            for (int i = 0; i < m; i++)
            {
                var ci = c.Slice(i * n, n);
                var ai = a.Slice(i * k, k);
                for (int p = 0; p < k; p++)
                {
                    T s = ai[p];
                    if (s != T.Zero) TP.MultiplyAdd(b.Slice(p * n, n), s, ci, ci);
                }
            }
        }
        else if (!transA && transB)
        {
            // C[i,j] += dot(A[i,:], B[j,:]).
            for (int i = 0; i < m; i++)
            {
                var ai = a.Slice(i * k, k);
                var ci = c.Slice(i * n, n);
                for (int j = 0; j < n; j++) ci[j] += TP.Dot(ai, b.Slice(j * k, k));
            }
        }
        else if (transA && !transB)
        {
            // C[i,:] += A[p,i] * B[p,:].
            for (int p = 0; p < k; p++)
            {
                var ap = a.Slice(p * m, m);
                var bp = b.Slice(p * n, n);
                for (int i = 0; i < m; i++)
                {
                    T s = ap[i];
                    if (s != T.Zero) TP.MultiplyAdd(bp, s, c.Slice(i * n, n), c.Slice(i * n, n));
                }
            }
        }
        else
        {
            // C[i,j] += sum_p A[p,i] * B[j,p]; rare, kept simple.
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T s = T.Zero;
                    for (int p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
                    c[i * n + j] += s;
                }
        }
    }
}
