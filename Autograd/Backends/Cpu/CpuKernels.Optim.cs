using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Backends.Cpu;

internal sealed partial class CpuKernels<T>
{
    [ThreadStatic] private static T[]? t_update1, t_update2;

    private static Span<T> UpdateScratch(ref T[]? cache, int n)
    {
        if (cache is null || cache.Length < n) cache = new T[Math.Max(n, 1024)];
        return cache.AsSpan(0, n);
    }

    public void Sgd(Buffer<T> parameter, Buffer<T> gradient, Buffer<T> velocity, T learningRate, T momentum, T weightDecay, bool nesterov)
    {
        var p = S(parameter);
        if (p.IsEmpty) return;
        var g = UpdateScratch(ref t_update1, p.Length);
        if (weightDecay != T.Zero) TP.MultiplyAdd(p, weightDecay, S(gradient), g);
        else S(gradient).CopyTo(g);
        if (momentum != T.Zero)
        {
            var v = S(velocity);
            TP.MultiplyAdd(v, momentum, g, v);
            if (nesterov) TP.MultiplyAdd(v, momentum, g, g);
            else v.CopyTo(g);
        }
        TP.MultiplyAdd(g, -learningRate, p, p);
    }

    public void Adam(Buffer<T> parameter, Buffer<T> gradient, Buffer<T> firstMoment, Buffer<T> secondMoment,
        T learningRate, T beta1, T beta2, T epsilon, T weightDecay, T biasCorrection1, T biasCorrection2)
    {
        var p = S(parameter);
        if (p.IsEmpty) return;
        var g = UpdateScratch(ref t_update1, p.Length);
        var g2 = UpdateScratch(ref t_update2, p.Length);
        if (weightDecay != T.Zero) TP.MultiplyAdd(p, weightDecay, S(gradient), g);
        else S(gradient).CopyTo(g);
        var m = S(firstMoment);
        var v = S(secondMoment);
        TP.Multiply(m, beta1, m);
        TP.MultiplyAdd(g, T.One - beta1, m, m);
        TP.Multiply(g, g, g2);
        TP.Multiply(v, beta2, v);
        TP.MultiplyAdd(g2, T.One - beta2, v, v);
        TP.Multiply(v, T.One / biasCorrection2, g2);
        TP.Sqrt(g2, g2);
        TP.Add(g2, epsilon, g2);
        TP.Divide(m, g2, g);
        TP.MultiplyAdd(g, -learningRate / biasCorrection1, p, p);
    }
}
