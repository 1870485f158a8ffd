using Autograd.Backends;

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
        var k = K;
        // Keep the log-probabilities only when backward will need them; the node recycles them.
        var logp = record ? k.Rent(Length) : null;
        var r = Uninitialized([]);
        k.CrossEntropy(Buffer, c, targets, logp is null ? default : new Buffer<T>(logp, 0, Length), r.Buffer);
        return record ? r.WithCreator(new CrossEntropyNode(this, targets.AsSpan().ToArray(), logp!)) : r;
    }

    private sealed class CrossEntropyNode(Tensor<T> x, int[] targets, Storage<T> logp) : Node<T>(x)
    {
        private Storage<T>? _logp = logp;

        internal override string Name => "CrossEntropy";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            K.CrossEntropyBackward(g, new Buffer<T>(_logp!, 0, x.Length), x._shape[^1], targets, x.GradBuffer);
        }

        internal override void Release()
        {
            base.Release();
            if (_logp is { } lp) K.Recycle(lp);
            _logp = null;
        }
    }
}
