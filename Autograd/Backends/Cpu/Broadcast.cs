using System.Numerics;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Backends.Cpu;

/// <summary>A vectorized elementwise binary operator: the flat, scalar and broadcast kernels all call these.</summary>
internal interface IBinaryOperator<T>
{
    static abstract void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination);
    static abstract void Apply(ReadOnlySpan<T> x, T y, Span<T> destination);
    static abstract void Apply(T x, ReadOnlySpan<T> y, Span<T> destination);
}

internal readonly struct AddOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Add(x, y, d);
    public static void Apply(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Add(x, y, d);
    public static void Apply(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Add(y, x, d);
}

internal readonly struct SubtractOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Subtract(x, y, d);
    public static void Apply(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Subtract(x, y, d);
    public static void Apply(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Subtract(x, y, d);
}

internal readonly struct MultiplyOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Multiply(x, y, d);
    public static void Apply(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Multiply(x, y, d);
    public static void Apply(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Multiply(y, x, d);
}

internal readonly struct DivideOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Divide(x, y, d);
    public static void Apply(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Divide(x, y, d);
    public static void Apply(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Divide(x, y, d);
}

internal readonly struct MaxOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Max(x, y, d);
    public static void Apply(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Max(x, y, d);
    public static void Apply(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Max(y, x, d);
}

internal readonly struct MinOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Min(x, y, d);
    public static void Apply(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Min(x, y, d);
    public static void Apply(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Min(y, x, d);
}

internal readonly struct PowOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TP.Pow(x, y, d);
    public static void Apply(ReadOnlySpan<T> x, T y, Span<T> d) => TP.Pow(x, y, d);
    public static void Apply(T x, ReadOnlySpan<T> y, Span<T> d) => TP.Pow(x, y, d);
}

/// <summary>
/// NumPy-style broadcasting over dense row-major buffers. Axes are coalesced so the innermost
/// loop runs over the longest contiguous run, where each operand is either a span or a scalar.
/// </summary>
internal static class Broadcast
{
    /// <summary>destination(outShape) = op(a(aShape), b(bShape)), broadcasting both.</summary>
    public static void Apply<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<int> aShape, ReadOnlySpan<T> b, ReadOnlySpan<int> bShape, Span<T> destination, ReadOnlySpan<int> outShape)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : IBinaryOperator<T>
    {
        if (a.Length == destination.Length && b.Length == destination.Length) { TOp.Apply(a, b, destination); return; }
        if (b.Length == 1 && a.Length == destination.Length) { TOp.Apply(a, b[0], destination); return; }
        if (a.Length == 1 && b.Length == destination.Length) { TOp.Apply(a[0], b, destination); return; }
        if (destination.Length == 0) return;

        var (shape, sa, sb) = Coalesce(outShape, ShapeUtil.BroadcastStrides(aShape, outShape), ShapeUtil.BroadcastStrides(bShape, outShape));
        int rank = shape.Length;
        int n = shape[rank - 1];
        int ia = sa[rank - 1], ib = sb[rank - 1];
        Span<int> idx = stackalloc int[rank];
        int offA = 0, offB = 0;
        for (int offOut = 0; offOut < destination.Length; offOut += n)
        {
            var d = destination.Slice(offOut, n);
            if (ia != 0 && ib != 0) TOp.Apply(a.Slice(offA, n), b.Slice(offB, n), d);
            else if (ia != 0) TOp.Apply(a.Slice(offA, n), b[offB], d);
            else if (ib != 0) TOp.Apply(a[offA], b.Slice(offB, n), d);
            else { d.Fill(a[offA]); TOp.Apply(d, b[offB], d); }
            Advance(idx, shape, sa, sb, ref offA, ref offB);
        }
    }

    /// <summary>
    /// target(targetShape) += scale · source(sourceShape) summed over the axes on which target was broadcast
    /// (the reduction every broadcasting op's backward needs). Float sums of many rows accumulate in double.
    /// </summary>
    public static void AccumulateTo<T>(ReadOnlySpan<T> source, ReadOnlySpan<int> sourceShape, Span<T> target, ReadOnlySpan<int> targetShape, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (source.Length == 0) return;
        if (source.Length == target.Length)
        {
            if (scale == T.One) TP.Add(target, source, target);
            else TP.MultiplyAdd(source, scale, target, target);
            return;
        }
        if (target.Length == 1) { target[0] += scale * T.CreateTruncating(AccurateSum.Of(source)); return; }

        // The source is walked contiguously; only the target's strides matter, so the second operand's are all 0.
        var (shape, st, none) = Coalesce(sourceShape, ShapeUtil.BroadcastStrides(targetShape, sourceShape), new int[sourceShape.Length]);
        int rank = shape.Length;
        int n = shape[rank - 1];
        int it = st[rank - 1];
        if (it == 0)
        {
            // Innermost axis reduced: each run sums to one target element.
            Span<int> idx0 = stackalloc int[rank];
            int offT0 = 0, unused0 = 0;
            for (int offS = 0; offS < source.Length; offS += n)
            {
                target[offT0] += scale * T.CreateTruncating(AccurateSum.Of(source.Slice(offS, n)));
                Advance(idx0, shape, st, none, ref offT0, ref unused0);
            }
            return;
        }
        // Runs add into target rows; sum them in double first (for float) so thousands of rows lose nothing.
        using var acc = new AccurateRows<T>(target.Length);
        Span<int> idx = stackalloc int[rank];
        int offT = 0, unused = 0;
        for (int offS = 0; offS < source.Length; offS += n)
        {
            acc.Add(offT, source.Slice(offS, n));
            Advance(idx, shape, st, none, ref offT, ref unused);
        }
        acc.AddTo(target, scale);
    }

    private static void Advance(Span<int> idx, int[] shape, int[] sa, int[] sb, ref int offA, ref int offB)
    {
        // Odometer over all axes but the last (the last is the contiguous run).
        for (int ax = shape.Length - 2; ax >= 0; ax--)
        {
            idx[ax]++;
            offA += sa[ax];
            offB += sb[ax];
            if (idx[ax] < shape[ax]) return;
            offA -= sa[ax] * shape[ax];
            offB -= sb[ax] * shape[ax];
            idx[ax] = 0;
        }
    }

    /// <summary>Merges neighbouring axes that both operands walk the same way; drops size-1 axes.</summary>
    private static (int[] Shape, int[] StridesA, int[] StridesB) Coalesce(ReadOnlySpan<int> shape, int[] sa, int[] sb)
    {
        var s = new List<int>(shape.Length);
        var a = new List<int>(shape.Length);
        var b = new List<int>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            if (s.Count > 0)
            {
                int last = s.Count - 1;
                bool mergeA = a[last] == sa[i] * shape[i];
                bool mergeB = b[last] == sb[i] * shape[i];
                if (mergeA && mergeB)
                {
                    s[last] *= shape[i];
                    a[last] = sa[i];
                    b[last] = sb[i];
                    continue;
                }
            }
            s.Add(shape[i]); a.Add(sa[i]); b.Add(sb[i]);
        }
        if (s.Count == 0) { s.Add(1); a.Add(0); b.Add(0); }
        return (s.ToArray(), a.ToArray(), b.ToArray());
    }
}
