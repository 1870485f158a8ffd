using System.Buffers;

namespace Autograd;

/// <summary>A pooled temporary buffer for kernels; return it with <c>using</c>.</summary>
internal readonly ref struct Scratch<T>
{
    private readonly T[] _array;
    public readonly Span<T> Span;

    public Scratch(int length)
    {
        _array = ArrayPool<T>.Shared.Rent(Math.Max(length, 1));
        Span = _array.AsSpan(0, length);
    }

    public void Dispose() => ArrayPool<T>.Shared.Return(_array);
}
