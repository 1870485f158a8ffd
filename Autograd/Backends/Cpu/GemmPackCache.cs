using System.Numerics;

namespace Autograd.Backends.Cpu;

/// <summary>What a packed op(B) depends on besides B's contents.</summary>
internal readonly record struct GemmPackKey(bool TransB, int K, int N, GemmIsa Isa, int KcMax);

/// <summary>
/// Packed panels of one B operand (a window of one storage), kept with that storage while its contents do not
/// change. A recurrent weight is the B of one GEMM per time step, forward (x·W) and backward (g·Wᵀ): packing it
/// once per pass instead of once per step was 22% of an M-size LSTM step. The first call with a B only counts;
/// the second packs all of it; later ones reuse the panels. The storage drops the cache on any write
/// (<see cref="Storage{T}.Touch"/>).
/// </summary>
internal sealed unsafe class GemmPackCache<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int MaxEntries = 4; // no-transpose and transpose uses of a few windows

    private readonly List<Entry> _entries = new(2);

    private sealed class Entry(GemmPackKey key)
    {
        public readonly GemmPackKey Key = key;
        public int Uses;
        public T[]? Array;
        public T* Packed;
    }

    /// <summary>
    /// Panels for <paramref name="key"/>, or null on a first use. <paramref name="fill"/> is true when the caller
    /// must pack into the returned memory now.
    /// </summary>
    public T* Lookup(GemmPackKey key, int length, out bool fill)
    {
        fill = false;
        Entry? e = null;
        foreach (var x in _entries)
            if (x.Key == key) { e = x; break; }
        if (e is null)
        {
            if (_entries.Count >= MaxEntries) Release(0);
            _entries.Add(new Entry(key) { Uses = 1 });
            return null;
        }
        e.Uses++;
        if (e.Array is null)
        {
            const int align = 64;
            e.Array = PackPool<T>.Rent(length + align / sizeof(T));
            fixed (T* raw = e.Array) e.Packed = (T*)(((nint)raw + (align - 1)) & ~(nint)(align - 1));
            fill = true;
        }
        return e.Packed;
    }

    private void Release(int index)
    {
        if (_entries[index].Array is { } a) PackPool<T>.Return(a);
        _entries.RemoveAt(index);
    }

    public void Dispose()
    {
        while (_entries.Count > 0) Release(_entries.Count - 1);
    }

    /// <summary>The cache of a B window's storage, created on demand; null for storage a kernel does not own.</summary>
    public static GemmPackCache<T>? For(Storage<T> storage)
    {
        if (storage is not HostStorage<T> h) return null;
        if (h.Cache is GemmPackCache<T> c) return c;
        var created = new GemmPackCache<T>();
        h.Cache = created;
        return created;
    }
}

/// <summary>Pinned arrays for packed panels, reused between passes (a new 1 MB array per pass would land on the large-object heap).</summary>
internal static class PackPool<T> where T : unmanaged
{
    [ThreadStatic] private static Dictionary<int, Stack<T[]>>? t_free;

    public static T[] Rent(int length)
    {
        if (t_free is not null && t_free.TryGetValue(length, out var s) && s.Count > 0) return s.Pop();
        return GC.AllocateUninitializedArray<T>(length, pinned: true);
    }

    public static void Return(T[] array)
    {
        t_free ??= new Dictionary<int, Stack<T[]>>();
        if (!t_free.TryGetValue(array.Length, out var s)) t_free[array.Length] = s = new Stack<T[]>();
        if (s.Count < 8) s.Push(array);
    }
}
