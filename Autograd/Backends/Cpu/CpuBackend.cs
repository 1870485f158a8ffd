using System.Numerics;

namespace Autograd.Backends.Cpu;

/// <summary>The default backend: SIMD kernels (Vector512 where accelerated, TensorPrimitives), a packed GEMM, threads above a work threshold.</summary>
internal sealed class CpuBackend : Backend
{
    public static readonly CpuBackend Instance = new();

    private CpuBackend()
    {
        Float = new CpuKernels<float>(this);
        Double = new CpuKernels<double>(this);
    }

    public override string Name => "cpu";
    public override IKernels<float> Float { get; }
    public override IKernels<double> Double { get; }
}

/// <summary>The CPU backend's kernels for one element type; split by concern over the CpuKernels.*.cs files.</summary>
internal sealed partial class CpuKernels<T> : IKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Backend _backend;

    public CpuKernels(Backend backend) => _backend = backend;

    /// <summary>Elements of work below which a kernel stays on the calling thread.</summary>
    internal const int ParallelThreshold = (int)CpuKernelsShared.ParallelThreshold;

    /// <summary>Host span of a buffer; every buffer this backend sees is host memory.</summary>
    private static Span<T> S(Buffer<T> b) => ((HostStorage<T>)b.Storage).Elements.Slice(b.Offset, b.Length);

    private static void CheckLength(string kernel, Buffer<T> buffer, int needed, string what)
    {
        if (buffer.Length < needed)
            throw new ArgumentException($"{kernel}: {what} has {buffer.Length} elements, needs {needed}.");
    }
}
