using TorchSharp;

namespace Autograd.Benchmarks.Infrastructure;

/// <summary>Sets the number of compute threads for ours and for TorchSharp.</summary>
public static class ThreadControl
{
    /// <summary>Ours: the most threads one GEMM call may use (everything else in the engine is single-threaded).</summary>
    public static void SetOurs(int threads) => Autograd.Kernels.Gemm.MaxThreads = threads;

    /// <summary>libtorch's intra-op thread count.</summary>
    public static void SetTorch(int threads) => torch.set_num_threads(threads);
}
