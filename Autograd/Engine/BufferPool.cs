using System.Numerics;

namespace Autograd;

/// <summary>
/// Recycles the storage of a layer's internal tensors between training steps. A recurrent layer
/// creates the same shapes every step (hundreds of 100 KB+ buffers at realistic sizes); allocating
/// them fresh costs large-object-heap allocations, page faults and gen-2 collections.
/// </summary>
/// <remarks>
/// Only tensors created inside a <see cref="PoolScope"/> draw from the pool, and only non-leaf ones give
/// their buffer back: when the backward pass has run their node and released the graph
/// (<c>retainGraph: false</c>). Such tensors must not escape to user code; code opening a scope
/// copies anything it keeps. Pools are per thread and bounded; exact-length buckets suffice because
/// shapes repeat from step to step.
/// </remarks>
internal static class BufferPool<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const long MaxPooledElements = 256L * 1024 * 1024 / 4; // ~256 MB of float per thread

    [ThreadStatic] private static Dictionary<int, Stack<T[]>>? t_buckets;
    [ThreadStatic] private static long t_pooledElements;

    /// <summary>An array of exactly <paramref name="length"/> elements, zero-filled unless <paramref name="clear"/> is false.</summary>
    public static T[] Rent(int length, bool clear = true)
    {
        if (t_buckets is not null && t_buckets.TryGetValue(length, out var stack) && stack.Count > 0)
        {
            var a = stack.Pop();
            t_pooledElements -= a.Length;
            if (clear) Array.Clear(a);
            return a;
        }
        return clear ? new T[length] : GC.AllocateUninitializedArray<T>(length);
    }

    public static void Return(T[] array)
    {
        if (array.Length == 0 || t_pooledElements + array.Length > MaxPooledElements) return;
        t_buckets ??= new Dictionary<int, Stack<T[]>>();
        if (!t_buckets.TryGetValue(array.Length, out var stack)) t_buckets[array.Length] = stack = new Stack<T[]>();
        stack.Push(array);
        t_pooledElements += array.Length;
    }
}

/// <summary>The per-thread switch that makes new op results draw from <see cref="BufferPool{T}"/>.</summary>
internal static class PoolScope
{
    [ThreadStatic] private static int t_depth;

    public static bool Active => t_depth > 0;

    /// <summary>Enters a pooled scope; dispose to leave (scopes nest).</summary>
    public static Scope Enter()
    {
        t_depth++;
        return new Scope(true);
    }

    /// <summary>Leaves pooling for the duration of the returned scope (e.g. for tensors that escape).</summary>
    public static Scope Suspend()
    {
        int saved = t_depth;
        t_depth = 0;
        return new Scope(false, saved);
    }

    public readonly struct Scope(bool entered, int saved = 0) : IDisposable
    {
        public void Dispose()
        {
            if (entered) t_depth--;
            else t_depth = saved;
        }
    }
}
