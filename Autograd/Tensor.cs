using System.Numerics;
using System.Text;
using Autograd.Backends;

namespace Autograd;

/// <summary>
/// A dense, row-major n-dimensional array that records the operation that created it, so that
/// <see cref="Backward()"/> can compute gradients by reverse-mode automatic differentiation.
/// </summary>
/// <typeparam name="T"><see cref="float"/> for training, <see cref="double"/> for gradient checks.</typeparam>
/// <remarks>
/// This file holds storage and shape; the autograd state lives in <c>Tensor.Autograd.cs</c>,
/// the operators in <c>Tensor.Operators.cs</c> and every op in its own file under <c>Ops/</c>.
/// Elements live in a backend-owned <see cref="Storage{T}"/>; a tensor is a contiguous window of it, so
/// reshapes and leading-axis slices are views that share storage with their source.
/// </remarks>
public sealed partial class Tensor<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _shape;
    private readonly int _offset;
    private Storage<T> _storage;

    /// <summary>True while this tensor counts as a reader of pooled storage that it will give back after backward.</summary>
    private bool _holdsPooledStorage;

    /// <summary>True while a pooled tensor made outside a Recycling scope may still be read by its caller (until <see cref="Dispose"/>).</summary>
    private bool _userHeld;

    /// <summary>Recorded nodes, not yet released by a backward pass, that read this caller-held tensor: a disposal waits for them.</summary>
    private int _graphReaders;

    /// <summary>
    /// Results at least this long made outside a <see cref="Tensor.Recycling"/> scope come from the pool too, so that
    /// <see cref="Dispose"/> can give them back. Smaller ones are cheaper for the GC than a pool lookup.
    /// </summary>
    private const int MinUserPooledLength = 1024;

    /// <summary>A tensor over <paramref name="storage"/> from <paramref name="offset"/> (a view when the storage is shared).</summary>
    internal Tensor(int[] shape, Storage<T> storage, int offset = 0)
    {
        _shape = shape;
        _storage = storage;
        _offset = offset;
        Length = ShapeUtil.Product(shape);
        if (ReferenceEquals(storage, Released) && Length > 0)
            throw RecycledError(shape);
        if ((long)offset + Length > storage.Length)
            throw new ArgumentException($"Tensor: storage of {storage.Length} elements cannot hold shape {ShapeUtil.Format(shape)} at offset {offset}.");
        if (storage.Pooled)
        {
            storage.AddReference();
            _holdsPooledStorage = true;
            // Outside a Recycling scope the caller may keep this tensor: only Dispose ends its hold.
            _userHeld = !PoolScope.Active;
        }
    }

    /// <summary>The kernels of the current backend.</summary>
    internal static IKernels<T> K => Backend.Current.For<T>();

    /// <summary>
    /// An op's result, to be fully written by a kernel: its storage is not cleared. Inside a
    /// <see cref="Tensor.Recycling"/> scope it comes from the backend's pool and returns there once the
    /// backward pass has run the op that produced it. Outside one, a large result comes from the pool too
    /// but returns only when the caller disposes it (and the backward pass, if one is recorded, has run it).
    /// </summary>
    internal static Tensor<T> Uninitialized(int[] shape)
    {
        int n = ShapeUtil.Product(shape);
        var k = K;
        if (n >= MinUserPooledLength || (n > 0 && PoolScope.Active))
        {
            var s = k.Rent(n);
            s.Pooled = true;
            return new Tensor<T>(shape, s);
        }
        return new Tensor<T>(shape, k.Allocate(n));
    }

    /// <summary>A zero-filled result (see <see cref="Uninitialized"/>).</summary>
    internal static Tensor<T> ZerosLike(int[] shape)
    {
        var t = Uninitialized(shape);
        K.Fill(t.Buffer, T.Zero);
        return t;
    }

    /// <summary>
    /// Gives pooled storage back once nothing can read this tensor any more (its node has run and the graph
    /// is released); the storage returns to the pool when its last reader lets go. Afterwards any access
    /// fails loudly instead of reading reused memory.
    /// </summary>
    internal void ReleaseStorage() => GiveBackIfUnread();

    /// <summary>Counts a recorded node that reads this tensor (only caller-held ones are counted: only they can be disposed).</summary>
    internal void AddGraphReader()
    {
        if (_userHeld) Interlocked.Increment(ref _graphReaders);
    }

    /// <summary>A node counted by <see cref="AddGraphReader"/> was released.</summary>
    internal void RemoveGraphReader()
    {
        if (_graphReaders > 0 && Interlocked.Decrement(ref _graphReaders) == 0) GiveBackIfUnread();
    }

    /// <summary>Gives pooled storage back if neither the caller, a node reading it, nor its own node (whose backward may read its output) still needs it.</summary>
    private void GiveBackIfUnread()
    {
        if (_holdsPooledStorage && !_userHeld && _graphReaders == 0 && (Creator is null || Creator.Released)) GiveBackStorage();
    }

    private void GiveBackStorage()
    {
        _holdsPooledStorage = false;
        var s = _storage;
        _storage = Released;
        if (s.RemoveReference())
        {
            s.Pooled = false;
            K.Recycle(s);
        }
    }

    /// <summary>
    /// Gives this tensor's memory back for reuse by later ops (like disposing a TorchSharp tensor): the caller
    /// promises not to read this tensor again. The memory returns to the backend's pool when nothing else reads
    /// it: views of this tensor keep their own hold, and a recorded graph that reads it (as an input, or through the
    /// op that made it) keeps it until a backward pass (without <c>retainGraph</c>) has run those ops. Optional: an
    /// undisposed tensor is simply collected by the GC. Only tensors of at least 1,024 elements made by ops or factories
    /// are pooled; for others this does nothing. Disposing twice does nothing.
    /// </summary>
    /// <remarks>
    /// Reading a tensor (or taking a view of it) after its memory went back throws <see cref="InvalidOperationException"/>
    /// instead of showing other data. Ops recorded after the disposal are not waited for: use a tensor in no new op once
    /// disposed.
    /// </remarks>
    public void Dispose()
    {
        if (!_holdsPooledStorage || !_userHeld) return;
        _userHeld = false;
        GiveBackIfUnread();
    }

    /// <summary>
    /// Exempts a result made inside a <see cref="Tensor.Recycling"/> scope from that scope's recycling: it stays readable
    /// after the backward pass, like a result made outside any scope, until it is disposed (TorchSharp's
    /// <c>MoveToOuterDisposeScope</c>). For library code that hands out one of its temporaries, e.g. a layer's final state.
    /// Does nothing to a tensor that is not such a temporary.
    /// </summary>
    /// <returns>This tensor.</returns>
    /// <exception cref="InvalidOperationException">Its storage was already recycled.</exception>
    public Tensor<T> KeepAfterBackward()
    {
        if (ReferenceEquals(_storage, Released) && Length > 0) throw RecycledError(_shape);
        if (_holdsPooledStorage) _userHeld = true;
        return this;
    }

    private static Storage<T> Released => ReleasedStorage<T>.Instance;

    /// <summary>Reading (or viewing: reshape, slice, detach) a tensor whose pooled storage went back to the pool.</summary>
    private static InvalidOperationException RecycledError(int[] shape)
        => new($"Tensor: the storage of this {ShapeUtil.Format(shape)} tensor was recycled: it was disposed, or it was a temporary of a Recycling scope and a backward pass has run through it.");

    /// <summary>The elements as a kernel argument.</summary>
    internal Buffer<T> Buffer
    {
        get
        {
            if (ReferenceEquals(_storage, Released))
            {
                if (Length > 0) throw RecycledError(_shape);
                return new Buffer<T>(_storage, 0, 0);
            }
            return new Buffer<T>(_storage, _offset, Length);
        }
    }

    /// <summary>The storage and offset this tensor reads; views share them.</summary>
    internal Storage<T> Storage => _storage;

    /// <summary>The size of each axis; empty for a scalar.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The number of axes (0 for a scalar).</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>The shape array itself; never mutate it.</summary>
    internal int[] ShapeArray => _shape;

    /// <summary>The size of <paramref name="axis"/>; negative axes count from the end.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public int Size(int axis) => _shape[ShapeUtil.NormalizeAxis(axis, _shape, "Size")];

    /// <summary>The value of a single-element tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public T Item()
    {
        if (Length != 1)
            throw new InvalidOperationException($"Item: only a single-element tensor has an item, but shape is {ShapeUtil.Format(_shape)}.");
        Span<T> one = stackalloc T[1];
        K.Download(Buffer, one);
        return one[0];
    }

    /// <summary>A row-major copy of the elements.</summary>
    public T[] ToArray()
    {
        var a = new T[Length];
        K.Download(Buffer, a);
        return a;
    }

    /// <summary>The element at the given multi-index (one index per axis).</summary>
    /// <exception cref="ArgumentException">Wrong number of indices, or one out of range.</exception>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public T this[params int[] index]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(index);
            Span<T> one = stackalloc T[1];
            K.Download(Buffer.Slice(ShapeUtil.FlatIndex(_shape, index), 1), one);
            return one[0];
        }
    }

    /// <summary>Copies <paramref name="values"/> into this tensor's storage without recording anything.</summary>
    /// <remarks>For optimizers and state loading; it does not invalidate a recorded graph's saved values. Views of the same storage see the change.</remarks>
    /// <exception cref="ArgumentException">The length differs from <see cref="Length"/>.</exception>
    public void CopyFrom(ReadOnlySpan<T> values)
    {
        if (values.Length != Length)
            throw new ArgumentException($"CopyFrom: {values.Length} values for a tensor of shape {ShapeUtil.Format(_shape)} ({Length} elements).", nameof(values));
        K.Upload(values, Buffer);
        _storage.Touch();
    }

    /// <summary>Copies the values of <paramref name="source"/> (same element count) into this tensor's storage, without recording anything.</summary>
    /// <exception cref="ArgumentException">The element counts differ.</exception>
    public void CopyFrom(Tensor<T> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Length != Length)
            throw new ArgumentException($"CopyFrom: a tensor of shape {ShapeUtil.Format(source._shape)} ({source.Length} elements) into one of shape {ShapeUtil.Format(_shape)} ({Length} elements).", nameof(source));
        K.Copy(source.Buffer, Buffer, accumulate: false);
        _storage.Touch();
    }

    /// <summary>Sets one element without recording anything (for finite-difference checks).</summary>
    internal void SetElement(int flatIndex, T value)
    {
        Span<T> one = [value];
        K.Upload(one, Buffer.Slice(flatIndex, 1));
        _storage.Touch();
    }

    /// <summary>A read-only view of the elements, row-major, for tensors in host memory (both shipped backends).</summary>
    /// <exception cref="NotSupportedException">The storage is not host memory.</exception>
    public ReadOnlySpan<T> AsSpan() => Buffer.HostSpan;

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor<").Append(typeof(T).Name).Append('>').Append(ShapeUtil.Format(_shape));
        if (Length <= 16 && !ReferenceEquals(_storage, Released))
        {
            sb.Append(" [");
            var values = ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(values[i].ToString(null, System.Globalization.CultureInfo.InvariantCulture));
            }
            sb.Append(']');
        }
        if (Creator is not null) sb.Append(" grad_fn=").Append(Creator.Name);
        else if (RequiresGrad) sb.Append(" requires_grad");
        return sb.ToString();
    }
}
