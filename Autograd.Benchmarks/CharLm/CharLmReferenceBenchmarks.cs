using Autograd.Nn;
using BenchmarkDotNet.Attributes;

namespace Autograd.Benchmarks.CharLm;

/// <summary>
/// The Char-LM step with ours' hand-derived reference nodes (<see cref="OursReferenceCharLm"/>). A separate class
/// because the reference is single-threaded naive loops (so no thread parameter) and far too slow for size L
/// (seconds per step), which is left out.
/// </summary>
[MemoryDiagnoser]
public class CharLmReferenceBenchmarks
{
    [Params(CharLmSize.S, CharLmSize.M)]
    public CharLmSize Size { get; set; }

    [Params(CellKind.Rnn, CellKind.Gru, CellKind.Lstm)]
    public CellKind Cell { get; set; }

    private OursReferenceCharLm _step = null!;

    [GlobalSetup]
    public void Setup() => _step = new OursReferenceCharLm(CharLmShape.Of(Size), Cell);

    /// <summary>Ours: hand-derived per-step nodes (ReferenceLayer), hand-written loss gradient and SGD.</summary>
    [Benchmark]
    public float OursReference() => _step.Step();
}
