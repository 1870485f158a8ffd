using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Matrix product. (m, k) @ (k, n) → (m, n). Batched when either side has rank &gt; 2, with the leading
    /// (batch) axes broadcast as in PyTorch: (..., m, k) @ (k, n) → (..., m, n) (one weight for every batch),
    /// (1, m, k) @ (b, k, n) → (b, m, n), (a, 1, m, k) @ (b, k, n) → (a, b, m, n).
    /// dA = dC · Bᵀ, dB = Aᵀ · dC (summed over broadcast batches), computed without materialising a transpose.
    /// 1-D operands are refused: reshape a vector to (1, k) or (k, 1).
    /// </summary>
    /// <exception cref="ArgumentException">A rank below 2, inner sizes differ, or batch axes that do not broadcast.</exception>
    public Tensor<T> MatMul(Tensor<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var s = MatMulShape.Of(_shape, other._shape);
        var r = Uninitialized(s.OutShape);
        var k = K;
        var a = Buffer; var b = other.Buffer; var c = r.Buffer;
        if (s.FoldsIntoRows)
        {
            // Leading axes of A fold into its rows: one GEMM.
            k.MatMul(false, false, s.M * s.Batch, s.N, s.K, a, b, c, accumulate: false);
        }
        else
        {
            for (int i = 0; i < s.Batch; i++)
                k.MatMul(false, false, s.M, s.N, s.K, s.SliceA(a, i), s.SliceB(b, i), c.Slice(i * s.M * s.N, s.M * s.N), accumulate: false);
        }
        return ShouldRecord(this, other) ? r.WithCreator(new MatMulNode(this, other, s)) : r;
    }

    /// <summary>Shapes of one matmul: Batch output matrices of (M × N), and which A and B matrix each reads.</summary>
    internal sealed record MatMulShape(int Batch, int M, int K, int N, int[] OutShape, int[] BatchA, int[] BatchB, bool FoldsIntoRows)
    {
        public Buffer<T> SliceA(Buffer<T> a, int i) => a.Slice(BatchA[i] * M * K, M * K);
        public Buffer<T> SliceB(Buffer<T> b, int i) => b.Slice(BatchB[i] * K * N, K * N);

        public static MatMulShape Of(int[] a, int[] b)
        {
            string Shapes() => $"{ShapeUtil.Format(a)} and {ShapeUtil.Format(b)}";
            if (a.Length < 2 || b.Length < 2)
                throw new ArgumentException($"MatMul: both operands need rank >= 2, got shapes {Shapes()} (reshape a vector to (1, k) or (k, 1)).");
            int m = a[^2], k = a[^1], kb = b[^2], n = b[^1];
            if (k != kb)
                throw new ArgumentException($"MatMul: inner sizes differ ({k} vs {kb}) for shapes {Shapes()}.");
            int[] leadA = a[..^2], leadB = b[..^2];
            int[] lead;
            try { lead = ShapeUtil.Broadcast(leadA, leadB, "MatMul"); }
            catch (ArgumentException) { throw new ArgumentException($"MatMul: batch axes of {Shapes()} do not broadcast together."); }
            int batch = ShapeUtil.Product(lead);
            int[] outShape = [.. lead, m, n];
            ShapeUtil.Product(outShape);
            // A weight shared by every batch (B 2-D, or B's batches all size 1) lets A's batches fold into rows.
            bool fold = ShapeUtil.Product(leadB) == 1 && ShapeUtil.Product(leadA) == batch;
            var ia = new int[batch];
            var ib = new int[batch];
            var sa = ShapeUtil.BroadcastStrides(leadA, lead);
            var sb = ShapeUtil.BroadcastStrides(leadB, lead);
            Span<int> idx = stackalloc int[lead.Length];
            for (int i = 0; i < batch; i++)
            {
                int flat = i, oa = 0, ob = 0;
                for (int d = lead.Length - 1; d >= 0; d--)
                {
                    idx[d] = flat % lead[d];
                    flat /= lead[d];
                    oa += idx[d] * sa[d];
                    ob += idx[d] * sb[d];
                }
                ia[i] = oa;
                ib[i] = ob;
            }
            return new MatMulShape(batch, m, k, n, outShape, ia, ib, fold);
        }
    }

    private sealed class MatMulNode(Tensor<T> a, Tensor<T> b, MatMulShape s) : Node<T>(a, b)
    {
        internal override string Name => "MatMul";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            Tensor<T> a = Inputs[0], b = Inputs[1];
            var k = K;
            if (s.FoldsIntoRows)
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
            // Broadcast batches add up into the same input matrix, so these always accumulate.
            var da = a.RequiresGrad ? a.GradBuffer : default;
            var db = b.RequiresGrad ? b.GradBuffer : default;
            for (int i = 0; i < s.Batch; i++)
            {
                var gi = g.Slice(i * s.M * s.N, s.M * s.N);
                if (a.RequiresGrad) k.MatMul(false, true, s.M, s.K, s.N, gi, s.SliceB(b.Buffer, i), s.SliceA(da, i), accumulate: true);
                if (b.RequiresGrad) k.MatMul(true, false, s.K, s.N, s.M, s.SliceA(a.Buffer, i), gi, s.SliceB(db, i), accumulate: true);
            }
        }
    }
}
