using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd.Backends.Cpu;

internal sealed partial class CpuKernels<T>
{
    // A training step's whole working set must fit, or every step re-allocates what did not (a 2-layer
    // LSTM at batch 64 × 100 steps holds ~300 MB of temporaries); bytes, per thread.
    private const long MaxPooledBytes = 1L << 30;
    private static readonly long MaxPooledElements = MaxPooledBytes / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    // Per thread: a layer's graph is built and released on one thread, so no locking; exact-length buckets
    // suffice because shapes repeat from step to step.
    [ThreadStatic] private static Dictionary<int, Stack<HostStorage<T>>>? t_buckets;
    [ThreadStatic] private static long t_pooledElements;

    // Single-element storage, apart from the buckets: a graph of scalar ops rents and recycles one gradient per node,
    // and a dictionary lookup each time would cost more than the arithmetic.
    [ThreadStatic] private static Stack<HostStorage<T>>? t_singles;

    // One element is held inline: a scalar then costs one object, not a storage and an array.
    public Storage<T> Allocate(int length)
        => length == 1 ? new HostStorage<T>(_backend) : new HostStorage<T>(_backend, GC.AllocateUninitializedArray<T>(length));

    public Storage<T> Rent(int length)
    {
        if (length == 1)
        {
            if (t_singles is { Count: > 0 } singles)
            {
                t_pooledElements--;
                return singles.Pop();
            }
            return Allocate(1);
        }
        if (t_buckets is not null && t_buckets.TryGetValue(length, out var stack) && stack.Count > 0)
        {
            var s = stack.Pop();
            t_pooledElements -= length;
            return s;
        }
        return Allocate(length);
    }

    public void Recycle(Storage<T> storage)
    {
        if (storage is not HostStorage<T> h || h.Length == 0 || t_pooledElements + h.Length > MaxPooledElements) return;
        h.Touch(); // its next owner sees new contents: drop caches derived from the old ones
        if (h.Length == 1)
        {
            (t_singles ??= new Stack<HostStorage<T>>()).Push(h);
            t_pooledElements++;
            return;
        }
        t_buckets ??= new Dictionary<int, Stack<HostStorage<T>>>();
        if (!t_buckets.TryGetValue(h.Length, out var stack)) t_buckets[h.Length] = stack = new Stack<HostStorage<T>>();
        stack.Push(h);
        t_pooledElements += h.Length;
    }

    public void Upload(ReadOnlySpan<T> source, Buffer<T> destination) => source.CopyTo(S(destination));

    public void Download(Buffer<T> source, Span<T> destination) => S(source).CopyTo(destination);

    public void Fill(Buffer<T> destination, T value) => S(destination).Fill(value);

    public void Copy(Buffer<T> source, Buffer<T> destination, bool accumulate)
    {
        if (source.Length == 0) return;
        if (source.Length == 1 && destination.Length == 1)
        {
            // One element (graphs of scalar ops): the same sum or copy as the flat kernel, without its dispatch.
            T x = S(source)[0];
            ref T d = ref S(destination)[0];
            d = accumulate ? d + x : x;
            return;
        }
        FlatWork.Instance.Run(accumulate ? FlatWork.Kind.AddInto : FlatWork.Kind.Copy, default, source, default, destination, default, source.Length);
    }
}
