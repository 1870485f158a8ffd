using Autograd.Benchmarks.Infrastructure;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using TTensor = TorchSharp.torch.Tensor;

namespace Autograd.Benchmarks.Micro;

/// <summary>
/// MATMUL: C = A(256×512) @ B(512×1024), then backward of sum(C) with respect to A and B.
/// One invocation = forward + backward; gradients are cleared first (set to none) on both sides,
/// so each backward allocates fresh gradient buffers.
/// </summary>
[MemoryDiagnoser]
public class MatMulBenchmarks
{
    private const int M = 256, K = 512, N = 1024;

    [Params(1, 2)]
    public int Threads { get; set; }

    private Tensor<float> _a = null!, _b = null!;
    private TTensor _ta = null!, _tb = null!;

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs()
    {
        ThreadControl.SetOurs(Threads);
        var random = new Random(7);
        _a = Tensor.Randn<float>(random, M, K);
        _b = Tensor.Randn<float>(random, K, N);
        _a.RequiresGrad = true;
        _b.RequiresGrad = true;
    }

    [GlobalSetup(Target = nameof(Torch))]
    public void SetupTorch()
    {
        ThreadControl.SetTorch(Threads);
        torch.manual_seed(7);
        _ta = torch.randn(M, K).requires_grad_(true);
        _tb = torch.randn(K, N).requires_grad_(true);
    }

    [Benchmark(Baseline = true)]
    public float Ours()
    {
        _a.ZeroGrad();
        _b.ZeroGrad();
        _a.MatMul(_b).Sum().Backward();
        return _a.Grad!.AsSpan()[0] + _b.Grad!.AsSpan()[0];
    }

    [Benchmark]
    public float Torch()
    {
        using var scope = torch.NewDisposeScope();
        _ta.grad = null;
        _tb.grad = null;
        _ta.matmul(_tb).sum().backward();
        return _ta.grad!.data<float>()[0] + _tb.grad!.data<float>()[0];
    }

    [GlobalCleanup(Target = nameof(Torch))]
    public void CleanupTorch()
    {
        _ta.Dispose();
        _tb.Dispose();
    }
}
