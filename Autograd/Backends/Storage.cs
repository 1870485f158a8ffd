using System.Numerics;
using System.Runtime.InteropServices;

namespace Autograd.Backends;

/// <summary>
/// A block of elements owned by a backend. Tensors are row-major, contiguous windows (an offset and a
/// length) into a storage; views (reshapes, leading-axis slices, detached copies) share one.
/// </summary>
/// <remarks>
/// A backend subclasses this for its own memory (host arrays here; device memory for a GPU backend). The
/// engine keeps the bookkeeping that is the same for every backend: a version counter bumped by every
/// in-place write (caches of derived data, such as packed GEMM panels, key on it), and a reference count
/// for pooled storage, which goes back to its backend's pool only when every tensor that may read it has
/// given it up.
/// </remarks>
public abstract class Storage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>0 when not on loan from a pool; otherwise 1 + the number of tensors reading it (one field, not two: a scalar's storage stays small).</summary>
    private int _loan;

    /// <summary>A storage of <paramref name="length"/> elements belonging to <paramref name="backend"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="backend"/> is null.</exception>
    protected Storage(Backend backend, int length)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Backend = backend;
        Length = length;
    }

    /// <summary>The backend whose kernels can read and write this storage.</summary>
    public Backend Backend { get; }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>Incremented by every write that is not an op's fresh result (in-place updates, loads, recycling).</summary>
    public int Version { get; private set; }

    /// <summary>Records an in-place write: anything derived from the old contents is stale.</summary>
    public void Touch()
    {
        Version++;
        OnTouched();
    }

    /// <summary>Called after <see cref="Touch"/>; backends drop caches derived from the contents here.</summary>
    protected virtual void OnTouched() { }

    /// <summary>True while this storage is on loan from its backend's pool.</summary>
    internal bool Pooled
    {
        get => _loan != 0;
        set => _loan = value ? Math.Max(_loan, 1) : 0;
    }

    /// <summary>Adds a reader of pooled storage.</summary>
    /// <remarks>Atomic: tensors a caller holds (see <c>Tensor.Dispose</c>) may be viewed from several threads at once.</remarks>
    internal void AddReference() => Interlocked.Increment(ref _loan);

    /// <summary>Gives up one reference; true when it was the last.</summary>
    internal bool RemoveReference() => Interlocked.Decrement(ref _loan) == 1;
}

/// <summary>What a tensor points at after its pooled storage went back to the pool: empty, so any read fails loudly.</summary>
internal sealed class ReleasedStorage<T>() : Storage<T>(Backend.Cpu, 0) where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly ReleasedStorage<T> Instance = new();
}

/// <summary>Storage in host memory: what the CPU and reference backends use.</summary>
/// <remarks>
/// Either a managed array or, for a single element, the element itself held inline in this object: graphs of scalar
/// ops create one storage per op, and an array beside it would be one more object for the GC to trace and promote.
/// </remarks>
public sealed class HostStorage<T> : Storage<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[]? _array;
    private T _single;

    /// <summary>Wraps <paramref name="array"/> (not copied) for <paramref name="backend"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public HostStorage(Backend backend, T[] array) : base(backend, (array ?? throw new ArgumentNullException(nameof(array))).Length)
        => _array = array;

    /// <summary>A single-element storage for <paramref name="backend"/> holding its element inline, initially zero.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="backend"/> is null.</exception>
    public HostStorage(Backend backend) : base(backend, 1) { }

    /// <summary>All <see cref="Storage{T}.Length"/> elements.</summary>
    public Span<T> Elements => _array is { } a ? a : MemoryMarshal.CreateSpan(ref _single, 1);

    /// <summary>The managed array holding the elements; null for a single-element storage held inline.</summary>
    internal T[]? Array => _array;

    /// <summary>Derived data a backend keeps with the contents (e.g. packed GEMM panels); dropped on every write.</summary>
    internal object? Cache { get; set; }

    /// <inheritdoc />
    protected override void OnTouched()
    {
        if (Cache is IDisposable d) d.Dispose();
        Cache = null;
    }
}

/// <summary>A contiguous window of a storage: what kernels read and write.</summary>
public readonly record struct Buffer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Elements [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of <paramref name="storage"/>.</summary>
    /// <param name="storage">The storage.</param>
    /// <param name="offset">The first element's index in the storage.</param>
    /// <param name="length">The number of elements.</param>
    /// <exception cref="ArgumentNullException"><paramref name="storage"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The window does not lie inside the storage.</exception>
    public Buffer(Storage<T> storage, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(storage);
        // Kernels turn windows into raw pointers: a window past the storage would read or write other memory.
        if ((uint)offset > (uint)storage.Length || (uint)length > (uint)(storage.Length - offset))
            throw new ArgumentOutOfRangeException(nameof(length), $"Buffer: [{offset}, {(long)offset + length}) is outside a storage of {storage.Length} elements.");
        Storage = storage;
        Offset = offset;
        Length = length;
    }

    /// <summary>The storage.</summary>
    public Storage<T> Storage { get; }

    /// <summary>The first element's index in the storage.</summary>
    public int Offset { get; }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>The elements of a host buffer as a span.</summary>
    /// <exception cref="NotSupportedException">The storage is not host memory.</exception>
    public Span<T> HostSpan => Storage is HostStorage<T> h
        ? h.Elements.Slice(Offset, Length)
        : throw new NotSupportedException($"Buffer: storage of backend '{Storage.Backend.Name}' is not host memory.");

    /// <summary>Elements [start, start + length) of this buffer.</summary>
    public Buffer<T> Slice(int start, int length)
    {
        if ((uint)start > (uint)Length || (uint)length > (uint)(Length - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"Buffer.Slice: [{start}, {(long)start + length}) is outside a buffer of {Length}.");
        return new(Storage, Offset + start, length);
    }
}
