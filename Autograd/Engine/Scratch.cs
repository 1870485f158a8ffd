using System.Numerics;
using Autograd.Backends;

namespace Autograd;

/// <summary>A temporary buffer rented from the current backend for one kernel sequence; dispose to give it back.</summary>
internal readonly struct Scratch<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Storage<T> _storage;

    public Scratch(int length)
    {
        _storage = Tensor<T>.K.Rent(length);
        Buffer = new Buffer<T>(_storage, 0, length);
    }

    /// <summary>The buffer; contents unspecified until written.</summary>
    public Buffer<T> Buffer { get; }

    public void Dispose() => Tensor<T>.K.Recycle(_storage);
}
