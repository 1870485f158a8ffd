using Autograd.Benchmarks.Infrastructure;
using Autograd.Nn;
using BenchmarkDotNet.Attributes;

namespace Autograd.Benchmarks.CharLm;

/// <summary>
/// The Char-LM training step (shared/docs/benchmarks.md) for every size × cell × thread count, ours and
/// the TorchSharp peers. One invocation = one step (forward + backward + SGD update); everything else is
/// built in the per-method [GlobalSetup].
/// </summary>
[MemoryDiagnoser]
public class CharLmStepBenchmarks
{
    [Params(CharLmSize.S, CharLmSize.M, CharLmSize.L)]
    public CharLmSize Size { get; set; }

    [Params(CellKind.Rnn, CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private ICharLmStep _step = null!;

    [GlobalSetup(Target = nameof(Ours))]
    public void SetupOurs()
    {
        ThreadControl.SetOurs(Threads);
        _step = new OursComposedCharLm(CharLmShape.Of(Size), Cell);
    }

    [GlobalSetup(Target = nameof(TorchFused))]
    public void SetupTorchFused()
    {
        ThreadControl.SetTorch(Threads);
        _step = new TorchFusedCharLm(CharLmShape.Of(Size), Cell);
    }

    [GlobalSetup(Target = nameof(TorchComposed))]
    public void SetupTorchComposed()
    {
        ThreadControl.SetTorch(Threads);
        _step = new TorchComposedCharLm(CharLmShape.Of(Size), Cell);
    }

    /// <summary>Ours: layers composed from primitive ops (autodiff backward).</summary>
    [Benchmark(Baseline = true)]
    public float Ours() => _step.Step();

    /// <summary>TorchSharp nn.RNN/GRU/LSTM + Linear.</summary>
    [Benchmark]
    public float TorchFused() => _step.Step();

    /// <summary>TorchSharp primitive ops in a C# loop over time.</summary>
    [Benchmark]
    public float TorchComposed() => _step.Step();

    [GlobalCleanup]
    public void Cleanup() => _step?.Dispose();
}
