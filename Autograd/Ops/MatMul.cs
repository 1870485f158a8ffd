using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Matrix product. (m, k) @ (k, n) → (m, n). Batched when either side has rank &gt; 2:
    /// (..., m, k) @ (k, n) → (..., m, n) (one weight for every batch), (m, k) @ (..., k, n),
    /// or (..., m, k) @ (..., k, n) with equal leading axes.
    /// dA = dC · Bᵀ, dB = Aᵀ · dC, computed without materialising either transpose.
    /// </summary>
    /// <exception cref="ArgumentException">A rank below 2, inner sizes differ, or batch axes differ.</exception>
    public Tensor<T> MatMul(Tensor<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var s = MatMulShape.Of(_shape, other._shape);
        var r = Uninitialized(s.OutShape);
        var k = K;
        var a = Buffer; var b = other.Buffer; var c = r.Buffer;
        if (s.Batch == 1 || (s.BatchStrideB == 0))
        {
            // Leading axes of A fold into its rows: one GEMM.
            k.MatMul(false, false, s.M * s.Batch, s.N, s.K, a, b, c, accumulate: false);
        }
        else
        {
            for (int i = 0; i < s.Batch; i++)
                k.MatMul(false, false, s.M, s.N, s.K, a.Slice(i * s.BatchStrideA, s.M * s.K),
                    b.Slice(i * s.BatchStrideB, s.K * s.N), c.Slice(i * s.M * s.N, s.M * s.N), accumulate: false);
        }
        return ShouldRecord(this, other) ? r.WithCreator(new MatMulNode(this, other, s)) : r;
    }

    internal readonly record struct MatMulShape(int Batch, int M, int K, int N, int BatchStrideA, int BatchStrideB, int[] OutShape)
    {
        public static MatMulShape Of(int[] a, int[] b)
        {
            string Shapes() => $"{ShapeUtil.Format(a)} and {ShapeUtil.Format(b)}";
            if (a.Length < 2 || b.Length < 2)
                throw new ArgumentException($"MatMul: both operands need rank >= 2, got shapes {Shapes()}.");
            int m = a[^2], k = a[^1], kb = b[^2], n = b[^1];
            if (k != kb)
                throw new ArgumentException($"MatMul: inner sizes differ ({k} vs {kb}) for shapes {Shapes()}.");
            int batchA = ShapeUtil.Product(a.AsSpan(0, a.Length - 2));
            int batchB = ShapeUtil.Product(b.AsSpan(0, b.Length - 2));
            int[] lead;
            if (b.Length == 2) lead = a[..^2];
            else if (a.Length == 2) lead = b[..^2];
            else if (a.AsSpan(0, a.Length - 2).SequenceEqual(b.AsSpan(0, b.Length - 2))) lead = a[..^2];
            else throw new ArgumentException($"MatMul: batch axes differ for shapes {Shapes()}; they must be equal or one side must be 2-D.");
            int[] outShape = [.. lead, m, n];
            int batch = Math.Max(batchA, batchB);
            return new MatMulShape(batch, m, k, n, batchA == 1 && a.Length == 2 ? 0 : m * k, b.Length == 2 ? 0 : k * n, outShape);
        }
    }

    private sealed class MatMulNode(Tensor<T> a, Tensor<T> b, MatMulShape s) : Node<T>(a, b)
    {
        internal override string Name => "MatMul";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            Tensor<T> a = Inputs[0], b = Inputs[1];
            var k = K;
            if (s.BatchStrideB == 0)
            {
                int rows = s.M * s.Batch;
                if (a.RequiresGrad)
                {
                    var gradA = a.GradBufferFor(out bool accumulate);
                    k.MatMul(false, true, rows, s.K, s.N, g, b.Buffer, gradA, accumulate);
                }
                if (b.RequiresGrad)
                {
                    // A few rows: stage with the weight's other contributions and run them as one GEMM later.
                    if (rows <= DeferredWeightGradient<T>.MaxRows && !Anomaly.Enabled) b.DeferMatMulGradient(a.Buffer, g, rows, s.K, s.N);
                    else k.MatMul(true, false, s.K, s.N, rows, a.Buffer, g, b.GradBuffer, accumulate: true);
                }
                return;
            }
            var da = a.RequiresGrad ? a.GradBuffer : default;
            var db = b.RequiresGrad ? b.GradBuffer : default;
            for (int i = 0; i < s.Batch; i++)
            {
                var gi = g.Slice(i * s.M * s.N, s.M * s.N);
                var ai = a.Buffer.Slice(i * s.BatchStrideA, s.M * s.K);
                var bi = b.Buffer.Slice(i * s.BatchStrideB, s.K * s.N);
                if (a.RequiresGrad) k.MatMul(false, true, s.M, s.K, s.N, gi, bi, da.Slice(i * s.BatchStrideA, s.M * s.K), accumulate: true);
                if (b.RequiresGrad) k.MatMul(true, false, s.K, s.N, s.M, ai, gi, db.Slice(i * s.BatchStrideB, s.K * s.N), accumulate: true);
            }
        }
    }
}
