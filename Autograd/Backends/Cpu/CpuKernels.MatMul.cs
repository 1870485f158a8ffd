namespace Autograd.Backends.Cpu;

internal sealed partial class CpuKernels<T>
{
    public void MatMul(bool transposeA, bool transposeB, int m, int n, int k, Buffer<T> a, Buffer<T> b, Buffer<T> c, bool accumulate)
    {
        // Only a whole storage is cached: a B window at another offset is another operand.
        var cache = b.Offset == 0 && b.Length == b.Storage.Length ? GemmPackCache<T>.For(b.Storage) : null;
        Gemm.Multiply<T>(transposeA, transposeB, m, n, k, S(a), S(b), S(c), accumulate, cache);
    }
}
