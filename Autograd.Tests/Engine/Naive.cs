namespace Autograd.Tests.Engine;

/// <summary>
/// Independent reference implementations for forward values: plain loops over multi-indices,
/// written without the engine's kernels, so a wrong forward in an op cannot hide behind itself.
/// </summary>
internal static class Naive
{
    public static int Count(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    /// <summary>Row-major multi-index of a flat position.</summary>
    public static int[] Unravel(int flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return idx;
    }

    public static int Ravel(int[] idx, int[] shape)
    {
        int flat = 0;
        for (int i = 0; i < shape.Length; i++) flat = flat * shape[i] + idx[i];
        return flat;
    }

    /// <summary>NumPy broadcast result shape (assumes the shapes are compatible).</summary>
    public static int[] BroadcastShape(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            r[i] = da == 1 ? db : da; // a 0 meets a 1 as 0
        }
        return r;
    }

    /// <summary>The element of x (shape xs) that broadcasts to output index idx.</summary>
    private static double At(double[] x, int[] xs, int[] idx)
    {
        int offset = idx.Length - xs.Length;
        var own = new int[xs.Length];
        for (int i = 0; i < xs.Length; i++) own[i] = xs[i] == 1 ? 0 : idx[i + offset];
        return x[Ravel(own, xs)];
    }

    public static double[] Binary(double[] a, int[] sa, double[] b, int[] sb, Func<double, double, double> op)
    {
        var os = BroadcastShape(sa, sb);
        var r = new double[Count(os)];
        for (int f = 0; f < r.Length; f++)
        {
            var idx = Unravel(f, os);
            r[f] = op(At(a, sa, idx), At(b, sb, idx));
        }
        return r;
    }

    /// <summary>Batched matmul for (..,m,k)@(k,n), (m,k)@(..,k,n), (..,m,k)@(..,k,n) with equal batch axes.</summary>
    public static double[] MatMul(double[] a, int[] sa, double[] b, int[] sb)
    {
        int m = sa[^2], k = sa[^1], n = sb[^1];
        int batchA = Count(sa[..^2]), batchB = Count(sb[..^2]);
        int batch = batchA == 1 ? batchB : batchA; // equal, or one side unbatched (0 batches stay 0)
        var r = new double[batch * m * n];
        for (int p = 0; p < batch; p++)
        {
            int pa = batchA == 1 ? 0 : p, pb = batchB == 1 ? 0 : p;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += a[pa * m * k + i * k + q] * b[pb * k * n + q * n + j];
                    r[p * m * n + i * n + j] = s;
                }
        }
        return r;
    }

    public static double[] Transpose(double[] x, int[] s)
    {
        int[] os = [.. s[..^2], s[^1], s[^2]];
        var r = new double[x.Length];
        for (int f = 0; f < x.Length; f++)
        {
            var idx = Unravel(f, s);
            (idx[^1], idx[^2]) = (idx[^2], idx[^1]);
            r[Ravel(idx, os)] = x[f];
        }
        return r;
    }

    public static double[] Slice(double[] x, int[] s, int axis, int start, int length)
    {
        if (axis < 0) axis += s.Length;
        var os = (int[])s.Clone();
        os[axis] = length;
        var r = new double[Count(os)];
        for (int f = 0; f < r.Length; f++)
        {
            var idx = Unravel(f, os);
            idx[axis] += start;
            r[f] = x[Ravel(idx, s)];
        }
        return r;
    }

    public static double[] Concat(int axis, (double[] Data, int[] Shape)[] parts)
    {
        int rank = parts[0].Shape.Length;
        if (axis < 0) axis += rank;
        var os = (int[])parts[0].Shape.Clone();
        os[axis] = parts.Sum(p => p.Shape[axis]);
        var r = new double[Count(os)];
        for (int f = 0; f < r.Length; f++)
        {
            var idx = Unravel(f, os);
            int pos = idx[axis], which = 0;
            while (pos >= parts[which].Shape[axis]) pos -= parts[which++].Shape[axis];
            idx[axis] = pos;
            r[f] = parts[which].Data[Ravel(idx, parts[which].Shape)];
        }
        return r;
    }

    /// <summary>Stack along a new axis: out[..., i, ...] = parts[i][...].</summary>
    public static double[] Stack(int axis, (double[] Data, int[] Shape)[] parts)
    {
        int rank = parts[0].Shape.Length + 1;
        if (axis < 0) axis += rank;
        int[] os = [.. parts[0].Shape[..axis], parts.Length, .. parts[0].Shape[axis..]];
        var r = new double[Count(os)];
        for (int f = 0; f < r.Length; f++)
        {
            var idx = Unravel(f, os);
            int which = idx[axis];
            int[] own = [.. idx[..axis], .. idx[(axis + 1)..]];
            r[f] = parts[which].Data[Ravel(own, parts[which].Shape)];
        }
        return r;
    }

    /// <summary>Reduces along an axis with a fold over the values in axis order (output drops the axis; keepDim has the same data).</summary>
    public static double[] Reduce(double[] x, int[] s, int axis, Func<IEnumerable<double>, double> fold)
    {
        if (axis < 0) axis += s.Length;
        int[] os = [.. s[..axis], .. s[(axis + 1)..]];
        var r = new double[Count(os)];
        for (int f = 0; f < r.Length; f++)
        {
            var idx = Unravel(f, os);
            r[f] = fold(Enumerable.Range(0, s[axis]).Select(j =>
            {
                int[] full = [.. idx[..axis], j, .. idx[axis..]];
                return x[Ravel(full, s)];
            }));
        }
        return r;
    }

    /// <summary>log softmax along an axis, stabilised by subtracting the maximum.</summary>
    public static double[] LogSoftmax(double[] x, int[] s, int axis)
    {
        if (axis < 0) axis += s.Length;
        var max = Reduce(x, s, axis, v => v.DefaultIfEmpty().Max()); // an empty axis has no values to stabilise
        var r = new double[x.Length];
        int[] os = [.. s[..axis], .. s[(axis + 1)..]];
        var lse = new double[max.Length];
        for (int f = 0; f < x.Length; f++)
        {
            var idx = Unravel(f, s);
            int[] o = [.. idx[..axis], .. idx[(axis + 1)..]];
            lse[Ravel(o, os)] += Math.Exp(x[f] - max[Ravel(o, os)]);
        }
        for (int f = 0; f < x.Length; f++)
        {
            var idx = Unravel(f, s);
            int[] o = [.. idx[..axis], .. idx[(axis + 1)..]];
            int p = Ravel(o, os);
            r[f] = x[f] - max[p] - Math.Log(lse[p]);
        }
        return r;
    }

    public static double[] Softmax(double[] x, int[] s, int axis) => LogSoftmax(x, s, axis).Select(Math.Exp).ToArray();

    public static double[] IndexSelect(double[] x, int[] s, int[] ids)
    {
        int row = Count(s[1..]);
        var r = new double[ids.Length * row];
        for (int i = 0; i < ids.Length; i++)
            for (int j = 0; j < row; j++) r[i * row + j] = x[ids[i] * row + j];
        return r;
    }

    public static double CrossEntropy(double[] logits, int[] s, int[] targets)
    {
        int c = s[^1];
        double total = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            var row = logits.Skip(i * c).Take(c).ToArray();
            double max = row.Max();
            double lse = Math.Log(row.Sum(v => Math.Exp(v - max))) + max;
            total += lse - row[targets[i]];
        }
        return total / targets.Length;
    }

    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
