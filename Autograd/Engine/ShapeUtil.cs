namespace Autograd;

/// <summary>Shape arithmetic shared by every op: products, broadcasting, axis checks, messages.</summary>
internal static class ShapeUtil
{
    /// <summary>The element count; a zero-size axis makes it 0 however large the others are.</summary>
    /// <exception cref="ArgumentException">A negative size, or more elements than an array can hold.</exception>
    public static int Product(ReadOnlySpan<int> shape)
    {
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"Shape {Format(shape)} has a negative size.");
        foreach (int d in shape)
            if (d == 0) return 0;
        long n = 1;
        foreach (int d in shape)
        {
            n *= d; // every factor is ≥ 1 here, so the running product only grows and the check below stops overflow
            if (n > Array.MaxLength) throw new ArgumentException($"Shape {Format(shape)} has more elements than an array can hold ({Array.MaxLength}).");
        }
        return (int)n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "(" + string.Join(", ", shape.ToArray()) + ")";

    /// <summary>Maps a possibly negative axis into [0, shape.Length); the error names the op and the shape.</summary>
    public static int NormalizeAxis(int axis, ReadOnlySpan<int> shape, string op)
    {
        int rank = shape.Length;
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"{op}: axis {axis} is out of range for shape {Format(shape)} (rank {rank}).");
        return a;
    }

    /// <summary>Like <see cref="NormalizeAxis(int, ReadOnlySpan{int}, string)"/> for an axis to insert: [0, shape.Length].</summary>
    public static int NormalizeNewAxis(int axis, ReadOnlySpan<int> shape, string op)
    {
        int rank = shape.Length + 1;
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"{op}: axis {axis} is out of range for inserting an axis into shape {Format(shape)} (valid {-rank}..{rank - 1}).");
        return a;
    }

    public static int NormalizeAxis(int axis, int rank, string op)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"{op}: axis {axis} is out of range for a tensor of rank {rank}.");
        return a;
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>NumPy broadcasting: align from the right; sizes must match or be 1.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together (axis {i}: {da} vs {db}).");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>Row-major strides of <paramref name="shape"/> aligned right to outShape, 0 on broadcast axes.</summary>
    public static int[] BroadcastStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> outShape)
    {
        int rank = outShape.Length;
        var strides = new int[rank];
        int stride = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            int j = i - (rank - shape.Length);
            int d = j >= 0 ? shape[j] : 1;
            strides[i] = d == 1 && outShape[i] != 1 ? 0 : stride;
            if (d == 1 && outShape[i] == 1) strides[i] = 0;
            stride *= d;
        }
        return strides;
    }

    public static int FlatIndex(ReadOnlySpan<int> shape, ReadOnlySpan<int> index)
    {
        if (index.Length != shape.Length)
            throw new ArgumentException($"Indexer: {index.Length} indices for a tensor of shape {Format(shape)}.");
        int flat = 0;
        for (int i = 0; i < shape.Length; i++)
        {
            if ((uint)index[i] >= (uint)shape[i])
                throw new ArgumentOutOfRangeException(nameof(index), $"Indexer: index {index[i]} on axis {i} is out of range for shape {Format(shape)}.");
            flat = flat * shape[i] + index[i];
        }
        return flat;
    }

    /// <summary>Splits <paramref name="shape"/> around <paramref name="axis"/> into (outer, size, inner).</summary>
    public static (int Outer, int Size, int Inner) Split(ReadOnlySpan<int> shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }
}
