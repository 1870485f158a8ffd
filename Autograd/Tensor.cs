using System.Numerics;
using System.Text;

namespace Autograd;

/// <summary>
/// A dense, row-major n-dimensional array that records the operation that created it, so that
/// <see cref="Backward()"/> can compute gradients by reverse-mode automatic differentiation.
/// </summary>
/// <typeparam name="T"><see cref="float"/> for training, <see cref="double"/> for gradient checks.</typeparam>
/// <remarks>
/// This file holds storage and shape; the autograd state lives in <c>Tensor.Autograd.cs</c>,
/// the operators in <c>Tensor.Operators.cs</c> and every op in its own file under <c>Ops/</c>.
/// </remarks>
public sealed partial class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _shape;

    /// <summary>Backing store; only the first <see cref="Length"/> elements belong to this tensor.</summary>
    internal T[] Data { get; private set; }

    /// <summary>True when <see cref="Data"/> was rented from <see cref="BufferPool{T}"/> by this tensor.</summary>
    private bool _ownsPooledBuffer;

    internal Tensor(int[] shape, T[] data)
    {
        _shape = shape;
        Data = data;
        Length = ShapeUtil.Product(shape);
        if (data.Length < Length)
            throw new ArgumentException($"Tensor: data has {data.Length} elements but shape {ShapeUtil.Format(shape)} needs {Length}.", nameof(data));
    }

    /// <summary>A zero-filled tensor of the given shape.</summary>
    internal Tensor(int[] shape) : this(shape, RentOrAllocate(shape, out bool pooled)) => _ownsPooledBuffer = pooled;

    /// <summary>
    /// A result tensor whose every element the calling kernel will write: its storage is not
    /// zeroed first (pooled inside a <see cref="PoolScope"/>, uninitialised otherwise).
    /// </summary>
    internal static Tensor<T> Uninitialized(int[] shape)
    {
        int n = ShapeUtil.Product(shape);
        bool pooled = PoolScope.Active && n > 0;
        var data = pooled ? BufferPool<T>.Rent(n, clear: false) : GC.AllocateUninitializedArray<T>(n);
        return new Tensor<T>(shape, data) { _ownsPooledBuffer = pooled };
    }

    private static T[] RentOrAllocate(int[] shape, out bool pooled)
    {
        int n = ShapeUtil.Product(shape);
        pooled = PoolScope.Active && n > 0;
        return pooled ? BufferPool<T>.Rent(n) : new T[n];
    }

    /// <summary>
    /// Gives a pooled buffer back once nothing can read it any more (its node has run and the
    /// graph is released). Afterwards any access fails loudly instead of reading reused memory.
    /// </summary>
    internal void ReturnPooledBuffer()
    {
        if (!_ownsPooledBuffer) return;
        _ownsPooledBuffer = false;
        var data = Data;
        Data = [];
        BufferPool<T>.Return(data);
    }

    /// <summary>The size of each axis; empty for a scalar.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The number of axes (0 for a scalar).</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>The shape array itself; never mutate it.</summary>
    internal int[] ShapeArray => _shape;

    /// <summary>The elements, row-major.</summary>
    internal Span<T> Span => Data.AsSpan(0, Length);

    /// <summary>The size of <paramref name="axis"/>; negative axes count from the end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public int Size(int axis) => _shape[ShapeUtil.NormalizeAxis(axis, _shape, "Size")];

    /// <summary>The value of a single-element tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public T Item()
    {
        if (Length != 1)
            throw new InvalidOperationException($"Item: only a single-element tensor has an item, but shape is {ShapeUtil.Format(_shape)}.");
        return Data[0];
    }

    /// <summary>A row-major copy of the elements.</summary>
    public T[] ToArray() => Span.ToArray();

    /// <summary>The element at the given multi-index (one index per axis).</summary>
    /// <exception cref="ArgumentException">Wrong number of indices, or one out of range.</exception>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public T this[params int[] index] => Data[ShapeUtil.FlatIndex(_shape, index)];

    /// <summary>Copies <paramref name="values"/> into this tensor's storage without recording anything.</summary>
    /// <remarks>For optimizers and state loading; it does not invalidate a recorded graph's saved values.</remarks>
    /// <exception cref="ArgumentException">The length differs from <see cref="Length"/>.</exception>
    public void CopyFrom(ReadOnlySpan<T> values)
    {
        if (values.Length != Length)
            throw new ArgumentException($"CopyFrom: {values.Length} values for a tensor of shape {ShapeUtil.Format(_shape)} ({Length} elements).", nameof(values));
        values.CopyTo(Span);
    }

    /// <summary>A read-only view of the elements, row-major.</summary>
    public ReadOnlySpan<T> AsSpan() => Span;

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor<").Append(typeof(T).Name).Append(">").Append(ShapeUtil.Format(_shape));
        if (Length <= 16)
        {
            sb.Append(" [");
            for (int i = 0; i < Length; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(Data[i].ToString(null, System.Globalization.CultureInfo.InvariantCulture));
            }
            sb.Append(']');
        }
        if (Creator is not null) sb.Append(" grad_fn=").Append(Creator.Name);
        else if (RequiresGrad) sb.Append(" requires_grad");
        return sb.ToString();
    }
}
