using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// Fused, stable softmax cross-entropy: logits (..., C) with one class id per position
    /// (row-major over the leading axes) → the mean over positions of -log softmax(logits)[target].
    /// d/dlogits = (softmax - onehot(target)) / N.
    /// </summary>
    /// <exception cref="ArgumentException">Rank 0, or the number of targets differs from the number of positions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, C).</exception>
    public Tensor<T> CrossEntropy(int[] targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (Rank == 0) throw new ArgumentException("CrossEntropy: logits need rank >= 1 (..., classes), got a scalar.");
        int c = _shape[^1];
        int n = c == 0 ? 0 : Length / c;
        if (targets.Length != n)
            throw new ArgumentException($"CrossEntropy: {targets.Length} targets for logits of shape {ShapeUtil.Format(_shape)} ({n} positions).", nameof(targets));
        if (n == 0) throw new ArgumentException($"CrossEntropy: logits of shape {ShapeUtil.Format(_shape)} have no positions.", nameof(targets));
        for (int i = 0; i < n; i++)
            if ((uint)targets[i] >= (uint)c)
                throw new ArgumentOutOfRangeException(nameof(targets), $"CrossEntropy: target {targets[i]} at position {i} is outside [0, {c}) for logits of shape {ShapeUtil.Format(_shape)}.");

        bool record = ShouldRecord(this);
        // Keep the log-probabilities only when backward will need them.
        var logp = record ? new T[Length] : null;
        using var row = new Scratch<T>(c);
        T total = T.Zero;
        var x = Span;
        for (int i = 0; i < n; i++)
        {
            var lp = logp is null ? row.Span : logp.AsSpan(i * c, c);
            LogSoftmaxRow(x.Slice(i * c, c), lp);
            total -= lp[targets[i]];
        }
        var r = new Tensor<T>([], [total / T.CreateChecked(n)]);
        return record ? r.WithCreator(new CrossEntropyNode(this, targets.AsSpan().ToArray(), logp!)) : r;
    }

    private sealed class CrossEntropyNode(Tensor<T> x, int[] targets, T[] logp) : Node<T>(x)
    {
        private T[]? _logp = logp;

        internal override string Name => "CrossEntropy";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            var x = Inputs[0];
            int c = x._shape[^1];
            T scale = g[0] / T.CreateChecked(targets.Length);
            var dx = x.GradTarget;
            var lp = _logp!.AsSpan(0, x.Length);
            using var tmp = new Scratch<T>(x.Length);
            TP.Exp(lp, tmp.Span);
            for (int i = 0; i < targets.Length; i++) tmp.Span[i * c + targets[i]] -= T.One;
            TP.MultiplyAdd(tmp.Span, scale, dx, dx);
        }

        internal override void Release()
        {
            base.Release();
            _logp = null;
        }
    }
}
