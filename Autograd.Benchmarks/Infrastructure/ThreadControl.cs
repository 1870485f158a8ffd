using TorchSharp;

namespace Autograd.Benchmarks.Infrastructure;

/// <summary>Sets the number of compute threads for ours and for TorchSharp.</summary>
public static class ThreadControl
{
    /// <summary>Ours: Tensor.NumThreads (GEMM, elementwise and reductions above a work threshold).</summary>
    public static void SetOurs(int threads) => Autograd.Tensor.NumThreads = threads;

    /// <summary>libtorch's intra-op thread count.</summary>
    public static void SetTorch(int threads) => torch.set_num_threads(threads);
}
