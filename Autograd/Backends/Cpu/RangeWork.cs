namespace Autograd.Backends.Cpu;

/// <summary>
/// A kernel body over [0, count) cut into fixed blocks of <c>block</c> items: the cut depends only on the work,
/// never on the thread count, so per-block results (and sums of them, taken in block order) are bitwise the same
/// however many threads run. Below <see cref="CpuKernels{T}.ParallelThreshold"/> elements of work it runs inline.
/// Subclasses keep their arguments in fields; instances are cached per thread so a call allocates nothing.
/// </summary>
internal abstract class RangeWork : IParallelWork
{
    private int _count, _block;

    /// <summary>Runs <see cref="Execute"/> over [0, count) in blocks of <paramref name="block"/>, in parallel when <paramref name="work"/> is large.</summary>
    protected void Run(int count, int block, long work)
    {
        if (count <= 0) return;
        _count = count;
        _block = Math.Max(1, block);
        int parts = (count + _block - 1) / _block;
        if (parts <= 1 || work < CpuKernelsShared.ParallelThreshold || CpuParallel.Threads <= 1)
        {
            for (int p = 0; p < parts; p++) RunPart(p);
            return;
        }
        CpuParallel.Run(this, parts);
    }

    public void RunPart(int part)
    {
        int start = part * _block;
        Execute(part, start, Math.Min(_count, start + _block));
    }

    /// <summary>Processes items [start, end) of block number <paramref name="block"/>.</summary>
    protected abstract void Execute(int block, int start, int end);
}

/// <summary>Thresholds shared by every element type's kernels.</summary>
internal static class CpuKernelsShared
{
    /// <summary>Elements of work below which a kernel stays on the calling thread (a handoff costs about a microsecond).</summary>
    public const long ParallelThreshold = 1 << 14;
}
