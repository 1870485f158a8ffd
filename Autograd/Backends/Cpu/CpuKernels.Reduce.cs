using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Backends.Cpu;

internal sealed partial class CpuKernels<T>
{
    public void Sum(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination)
    {
        var src = S(source); var dst = S(destination);
        if (outer * inner == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) dst[o] = T.CreateTruncating(AccurateSum.Of<T>(src.Slice(o * size, size)));
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            using var acc = new AccurateRows<T>(inner);
            for (int s = 0; s < size; s++) acc.Add(0, src.Slice((o * size + s) * inner, inner));
            var d = dst.Slice(o * inner, inner);
            d.Clear();
            acc.AddTo(d, T.One);
        }
    }

    public void Expand(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination)
    {
        var g = S(source); var dx = S(destination);
        if (outer * size * inner == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var d = dx.Slice(o * size, size);
                TP.Add(d, g[o], d);
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var go = g.Slice(o * inner, inner);
            for (int s = 0; s < size; s++)
            {
                var d = dx.Slice((o * size + s) * inner, inner);
                TP.Add(d, go, d);
            }
        }
    }

    public void Max(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination, Span<int> argMax)
    {
        var src = S(source); var dst = S(destination);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                T m = src[o * size * inner + i];
                for (int s = 1; s < size && !T.IsNaN(m); s++)
                {
                    T v = src[(o * size + s) * inner + i];
                    if (v > m || T.IsNaN(v)) { m = v; best = s; }
                }
                dst[o * inner + i] = m;
                argMax[o * inner + i] = best;
            }
    }

    public void MaxBackward(Buffer<T> source, ReadOnlySpan<int> argMax, int outer, int size, int inner, Buffer<T> destination)
    {
        var g = S(source); var dx = S(destination);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
                dx[(o * size + argMax[o * inner + i]) * inner + i] += g[o * inner + i];
    }

    public void LogSoftmax(Buffer<T> source, int outer, int size, int inner, Buffer<T> destination)
    {
        var src = S(source); var dst = S(destination);
        if (outer * size * inner == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) LogSoftmaxRow(src.Slice(o * size, size), dst.Slice(o * size, size));
            return;
        }
        var row = new T[size];
        var outRow = new T[size];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                for (int s = 0; s < size; s++) row[s] = src[(o * size + s) * inner + i];
                LogSoftmaxRow(row, outRow);
                for (int s = 0; s < size; s++) dst[(o * size + s) * inner + i] = outRow[s];
            }
    }

    /// <summary>dst = x − max(x) − log Σ exp(x − max(x)): finite for logits of ±1000.</summary>
    private static void LogSoftmaxRow(ReadOnlySpan<T> x, Span<T> dst)
    {
        T max = TP.Max(x);
        TP.Subtract(x, max, dst);
        Span<T> e = x.Length <= 1024 ? stackalloc T[x.Length] : new T[x.Length];
        TP.Exp(dst, e);
        T logSum = T.Log(TP.Sum(e));
        TP.Subtract(dst, logSum, dst);
    }

    public void LogSoftmaxBackward(Buffer<T> gradient, Buffer<T> output, int outer, int size, int inner, Buffer<T> destination)
    {
        var g = S(gradient); var y = S(output); var dx = S(destination);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                T gs = T.Zero;
                for (int s = 0; s < size; s++) gs += g[(o * size + s) * inner + i];
                for (int s = 0; s < size; s++)
                {
                    int k = (o * size + s) * inner + i;
                    dx[k] += g[k] - T.Exp(y[k]) * gs;
                }
            }
    }

    public void CrossEntropy(Buffer<T> logits, int classes, ReadOnlyMemory<int> targets, Buffer<T> logProbabilities, Buffer<T> loss)
    {
        int n = targets.Length;
        var work = CrossEntropyWork.Instance;
        work.Forward(logits, logProbabilities, classes, Targets(targets));
        double total = 0;
        for (int b = 0; b < (n + CrossEntropyWork.Rows - 1) / CrossEntropyWork.Rows; b++) total += work.Partial[b];
        S(loss)[0] = T.CreateTruncating(total / n);
    }

    public void CrossEntropyBackward(Buffer<T> gradient, Buffer<T> logProbabilities, int classes, ReadOnlyMemory<int> targets, Buffer<T> destination)
    {
        T scale = S(gradient)[0] / T.CreateChecked(targets.Length);
        CrossEntropyWork.Instance.Backward(logProbabilities, destination, classes, Targets(targets), scale);
    }

    /// <summary>The targets as an array a worker can hold (the engine always passes a whole array).</summary>
    private static int[] Targets(ReadOnlyMemory<int> targets)
        => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(targets, out var seg) && seg.Offset == 0 && seg.Count == seg.Array!.Length
            ? seg.Array : targets.ToArray();

    public double SquaredNorm(Buffer<T> source)
    {
        var x = S(source);
        if (typeof(T) == typeof(double)) return x.IsEmpty ? 0 : double.CreateTruncating(TP.SumOfSquares<T>(x));
        // Float squares are widened first: the float sum of 1e20² overflows although the norm is finite.
        var f = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x);
        double sum = 0;
        int i = 0;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            var acc = System.Runtime.Intrinsics.Vector512<double>.Zero;
            for (; i + 16 <= f.Length; i += 16)
            {
                var (lo, hi) = System.Runtime.Intrinsics.Vector512.Widen(System.Runtime.Intrinsics.Vector512.Create(f.Slice(i, 16)));
                acc += lo * lo + hi * hi;
            }
            sum = System.Runtime.Intrinsics.Vector512.Sum(acc);
        }
        for (; i < f.Length; i++) sum += (double)f[i] * f[i];
        return sum;
    }

    public bool AllFinite(Buffer<T> source)
    {
        // x − x is 0 for finite x and NaN for NaN or ±∞, so one vectorized sum tells.
        var values = S(source);
        if (values.IsEmpty) return true;
        T s = T.Zero;
        const int chunk = 1024;
        Span<T> tmp = stackalloc T[Math.Min(values.Length, chunk)];
        for (int i = 0; i < values.Length; i += chunk)
        {
            var v = values.Slice(i, Math.Min(chunk, values.Length - i));
            TP.Subtract(v, v, tmp[..v.Length]);
            s += TP.Sum(tmp[..v.Length]);
        }
        return T.IsFinite(s) && s == T.Zero;
    }
}
