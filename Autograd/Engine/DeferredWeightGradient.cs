using System.Numerics;
using Autograd.Backends;

namespace Autograd;

/// <summary>
/// Gradient contributions dB += Aᵢᵀ·gᵢ of one weight B that many small matmuls used in a pass (a recurrent
/// weight: one (batch × H)·(H × G·H) product per time step). Computed one by one, each is a GEMM with an inner
/// size of only the batch, and each reads and writes all of dB; staged here and flushed as one GEMM over all
/// the rows, the whole weight gradient costs one well-shaped GEMM. Nothing about cells is known here: any
/// operand used by several matmuls with few rows benefits.
/// </summary>
internal sealed class DeferredWeightGradient<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Matmuls with at most this many rows defer their weight gradient.</summary>
    public const int MaxRows = 128;

    /// <summary>Staged elements (A and g rows together) before a flush, to bound the memory held.</summary>
    private const int MaxStagedElements = 1 << 22;

    private readonly int _k, _n;
    private readonly int _capacity;
    private Storage<T>? _a, _g;
    private int _rows;

    public DeferredWeightGradient(int k, int n)
    {
        _k = k;
        _n = n;
        _capacity = Math.Max(MaxRows, MaxStagedElements / Math.Max(1, k + n));
    }

    /// <summary>True when this stage takes gradients of a weight of shape (k, n).</summary>
    public bool Fits(int k, int n) => k == _k && n == _n;

    /// <summary>Stages a (rows × k) and g (rows × n); flushes into <paramref name="weight"/>'s gradient first when full.</summary>
    public void Add(Buffer<T> a, Buffer<T> g, int rows, Tensor<T> weight)
    {
        var kernels = Tensor<T>.K;
        if (_rows + rows > _capacity) Flush(weight);
        _a ??= kernels.Rent(_capacity * _k);
        _g ??= kernels.Rent(_capacity * _n);
        kernels.Copy(a, new Buffer<T>(_a, _rows * _k, rows * _k), accumulate: false);
        kernels.Copy(g, new Buffer<T>(_g, _rows * _n, rows * _n), accumulate: false);
        _rows += rows;
    }

    /// <summary>dB += A_stagedᵀ · g_staged, as one GEMM.</summary>
    public void Flush(Tensor<T> weight)
    {
        if (_rows == 0)
        {
            _ = weight.GradBuffer; // zero rows still make a (zero) gradient, as an immediate GEMM would
            return;
        }
        int rows = _rows;
        _rows = 0;
        // The staging storage was rewritten since the last flush: a GEMM that packed it then (a full stage is
        // the whole storage, which the pack cache keeps) must not reuse those panels.
        _a!.Touch();
        _g!.Touch();
        var dst = weight.GradBufferFor(out bool accumulate);
        Tensor<T>.K.MatMul(true, false, _k, _n, rows, new Buffer<T>(_a!, 0, rows * _k), new Buffer<T>(_g!, 0, rows * _n), dst, accumulate);
    }

    /// <summary>Gives the staging storage back (after a flush, or to drop what a failed pass staged).</summary>
    public void Release()
    {
        var kernels = Tensor<T>.K;
        if (_a is not null) kernels.Recycle(_a);
        if (_g is not null) kernels.Recycle(_g);
        _a = _g = null;
        _rows = 0;
    }
}
