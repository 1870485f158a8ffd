namespace Autograd.Backends.Cpu;

internal sealed partial class CpuKernels<T>
{
    public void MatMul(bool transposeA, bool transposeB, int m, int n, int k, Buffer<T> a, Buffer<T> b, Buffer<T> c, bool accumulate)
        => Gemm.Multiply<T>(transposeA, transposeB, m, n, k, S(a), S(b), S(c), accumulate);
}
