using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Backends.Cpu;

internal sealed partial class CpuKernels<T>
{
    public void Sgd(Buffer<T> parameter, Buffer<T> gradient, Buffer<T> velocity, T learningRate, T momentum, T weightDecay, bool nesterov)
        => FlatWork.Instance.Run(FlatWork.Kind.Sgd, default, parameter, gradient, velocity, default, parameter.Length,
            learningRate, momentum, weightDecay, nesterov ? T.One : T.Zero, flag: momentum != T.Zero);

    public void Adam(Buffer<T> parameter, Buffer<T> gradient, Buffer<T> firstMoment, Buffer<T> secondMoment,
        T learningRate, T beta1, T beta2, T epsilon, T weightDecay, T biasCorrection1, T biasCorrection2)
        => FlatWork.Instance.Run(FlatWork.Kind.Adam, default, parameter, gradient, firstMoment, secondMoment, parameter.Length,
            learningRate, beta1, beta2, epsilon, weightDecay, biasCorrection1, biasCorrection2);

    /// <summary>SGD on one piece: g ← ∇ + λp; v ← μv + g; step g, v or g + μv; p ← p − lr·step.</summary>
    private static void SgdRange(Span<T> p, ReadOnlySpan<T> grad, Span<T> v, T learningRate, T momentum, T weightDecay, bool nesterov)
    {
        Span<T> g = stackalloc T[Math.Min(p.Length, 1024)];
        for (int i = 0; i < p.Length; i += g.Length)
        {
            int n = Math.Min(g.Length, p.Length - i);
            var gi = g[..n]; var pi = p.Slice(i, n);
            if (weightDecay != T.Zero) TP.MultiplyAdd(pi, weightDecay, grad.Slice(i, n), gi);
            else grad.Slice(i, n).CopyTo(gi);
            if (!v.IsEmpty)
            {
                var vi = v.Slice(i, n);
                TP.MultiplyAdd(vi, momentum, gi, vi);
                if (nesterov) TP.MultiplyAdd(vi, momentum, gi, gi);
                else vi.CopyTo(gi);
            }
            TP.MultiplyAdd(gi, -learningRate, pi, pi);
        }
    }

    /// <summary>Adam on one piece, in chunks that stay in L1.</summary>
    private static void AdamRange(Span<T> p, ReadOnlySpan<T> grad, Span<T> m, Span<T> v,
        T learningRate, T beta1, T beta2, T epsilon, T weightDecay, T biasCorrection1, T biasCorrection2)
    {
        Span<T> g = stackalloc T[Math.Min(p.Length, 1024)];
        Span<T> g2 = stackalloc T[g.Length];
        for (int i = 0; i < p.Length; i += g.Length)
        {
            int n = Math.Min(g.Length, p.Length - i);
            var gi = g[..n]; var g2i = g2[..n];
            var pi = p.Slice(i, n); var mi = m.Slice(i, n); var vi = v.Slice(i, n);
            if (weightDecay != T.Zero) TP.MultiplyAdd(pi, weightDecay, grad.Slice(i, n), gi);
            else grad.Slice(i, n).CopyTo(gi);
            TP.Multiply(mi, beta1, mi);
            TP.MultiplyAdd(gi, T.One - beta1, mi, mi);
            TP.Multiply(gi, gi, g2i);
            TP.Multiply(vi, beta2, vi);
            TP.MultiplyAdd(g2i, T.One - beta2, vi, vi);
            TP.Multiply(vi, T.One / biasCorrection2, g2i);
            TP.Sqrt(g2i, g2i);
            TP.Add(g2i, epsilon, g2i);
            TP.Divide(mi, g2i, gi);
            TP.MultiplyAdd(gi, -learningRate / biasCorrection1, pi, pi);
        }
    }
}
