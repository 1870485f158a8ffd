using BenchmarkDotNet.Attributes;
using TorchSharp;
using TTensor = TorchSharp.torch.Tensor;

namespace Autograd.Benchmarks.Micro;

/// <summary>
/// SCALAR: a graph of 100,000 scalar ops cycling add, mul, tanh, where each add/mul takes as its second
/// operand an earlier tanh output (or a leaf) picked pseudo-randomly, so the graph branches; then one
/// backward. Reported per op (OperationsPerInvoke), so the Median column is µs per op.
/// Values stay bounded: operands of add/mul are in (-1, 1), so nothing overflows.
/// </summary>
[MemoryDiagnoser]
public class ScalarGraphBenchmarks
{
    public const int Ops = 100_000;
    private static readonly float[] LeafValues = [0.3f, -0.7f, 0.5f, 0.1f];

    /// <summary>picks[i] indexes the pool of reusable nodes (leaves, then tanh outputs in creation order).</summary>
    private readonly int[] _picks = new int[Ops];
    private Tensor<float>[] _leaves = null!, _pool = null!;
    private TTensor[] _torchLeaves = null!, _torchPool = null!;

    public ScalarGraphBenchmarks()
    {
        var random = new Random(11);
        for (int i = 0; i < Ops; i++)
            _picks[i] = random.Next(LeafValues.Length + i / 3);   // tanh outputs created before op i
    }

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs()
    {
        Infrastructure.ThreadControl.SetOurs(1);
        _leaves = LeafValues.Select(v => Tensor.Scalar(v)).ToArray();
        foreach (var leaf in _leaves) leaf.RequiresGrad = true;
        _pool = new Tensor<float>[LeafValues.Length + Ops / 3 + 1];
    }

    [GlobalSetup(Target = nameof(Torch))]
    public void SetupTorch()
    {
        Infrastructure.ThreadControl.SetTorch(1);
        _torchLeaves = LeafValues.Select(v => torch.tensor(v, requires_grad: true)).ToArray();
        _torchPool = new TTensor[LeafValues.Length + Ops / 3 + 1];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public float Ours()
    {
        foreach (var leaf in _leaves) leaf.ZeroGrad();
        _leaves.CopyTo(_pool, 0);
        int count = _leaves.Length;
        var current = _leaves[0];
        for (int i = 0; i < Ops; i++)
        {
            switch (i % 3)
            {
                case 0: current = current + _pool[_picks[i]]; break;
                case 1: current = current * _pool[_picks[i]]; break;
                default: current = current.Tanh(); _pool[count++] = current; break;
            }
        }
        current.Backward();
        Array.Clear(_pool);
        return _leaves[0].Grad!.Item();
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public float Torch()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var leaf in _torchLeaves) leaf.grad = null;
        _torchLeaves.CopyTo(_torchPool, 0);
        int count = _torchLeaves.Length;
        var current = _torchLeaves[0];
        for (int i = 0; i < Ops; i++)
        {
            switch (i % 3)
            {
                case 0: current = current + _torchPool[_picks[i]]; break;
                case 1: current = current * _torchPool[_picks[i]]; break;
                default: current = current.tanh(); _torchPool[count++] = current; break;
            }
        }
        current.backward();
        Array.Clear(_torchPool);
        return _torchLeaves[0].grad!.item<float>();
    }

    [GlobalCleanup(Target = nameof(Torch))]
    public void CleanupTorch()
    {
        foreach (var leaf in _torchLeaves) leaf.Dispose();
    }
}
