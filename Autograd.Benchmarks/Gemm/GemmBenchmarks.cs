using Autograd.Backends.Cpu;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Autograd.Benchmarks.Gemm;

/// <summary>
/// One GEMM shape with its transpose variant and thread count; ToString is the BenchmarkDotNet label.
/// <paramref name="Packed"/>: op(B) comes from a pack cache, as for a recurrent weight used once per time step.
/// </summary>
public sealed record GemmCase(string Name, bool TransA, bool TransB, int M, int N, int K, bool Accumulate, int Threads, bool Packed = false)
{
    public double Flops => 2.0 * M * N * K;
    public override string ToString() =>
        $"{Name} {(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')} {M}x{N}x{K} t{Threads}{(Packed ? " packed" : "")}";
}

/// <summary>
/// Gemm.Multiply (float) on the standard workload shapes: the MATMUL micro-workload, the M-size LSTM gate GEMM
/// (B·T = 2048 rows, F + H = 321, 4H = 1024) and its two backward GEMMs, per-step gate GEMMs with the weight
/// pre-packed (M size: batch 32, 256 → 1024; training default: batch 64, 384 → 1536) and their backward, the deferred
/// weight gradient (k = batch × time), and per-step S-size shapes.
/// Shapes are m×n×k of C (m×n) += op(A) (m×k) · op(B) (k×n). GFLOP/s = 2mnk / median.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private GemmPackCache<float>? _cache;

    public static IEnumerable<GemmCase> Cases()
    {
        var large = new (string, bool, bool, int, int, int, bool)[]
        {
            ("matmul-fwd", false, false, 256, 1024, 512, false),
            ("lstm-M-fwd", false, false, 2048, 1024, 321, false),
            ("lstm-M-dX", false, true, 2048, 321, 1024, true),
            ("lstm-M-dW", true, false, 321, 1024, 2048, true),
            ("matmul-dA", false, true, 256, 512, 1024, true),
            ("matmul-dB", true, false, 512, 1024, 256, true),
            ("deferred-dW", true, false, 256, 1024, 2048, true),
        };
        foreach (var (name, ta, tb, m, n, k, acc) in large)
            foreach (int threads in new[] { 1, 2 })
                yield return new GemmCase(name, ta, tb, m, n, k, acc, threads);

        // Per-time-step gate GEMMs x·W and their backward g·Wᵀ, with W packed once and reused (the pack cache).
        var steps = new (string, bool, int, int, int, bool)[]
        {
            ("gate-M-fwd", false, 32, 1024, 256, false),
            ("gate-M-dX", true, 32, 256, 1024, true),
            ("gate-D-fwd", false, 64, 1536, 384, false),
            ("gate-D-dX", true, 64, 384, 1536, true),
        };
        foreach (var (name, tb, m, n, k, acc) in steps)
            foreach (int threads in new[] { 1, 2 })
                yield return new GemmCase(name, false, tb, m, n, k, acc, threads, Packed: true);

        // S-size per-step shapes: far below the parallel threshold, so one thread only.
        yield return new GemmCase("S-fwd", false, false, 1, 128, 97, false, 1);
        yield return new GemmCase("S-fwd", false, false, 32, 128, 97, false, 1);
        yield return new GemmCase("S-dX", false, true, 1, 97, 128, true, 1);
        yield return new GemmCase("S-dW", true, false, 97, 128, 1, true, 1);
    }

    [ParamsSource(nameof(Cases))]
    public GemmCase Case { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _a = Fill(rng, Case.M * Case.K);
        _b = Fill(rng, Case.K * Case.N);
        _c = Fill(rng, Case.M * Case.N);
        Autograd.Tensor.NumThreads = Case.Threads;
        _cache = Case.Packed ? new GemmPackCache<float>() : null;
    }

    [GlobalCleanup]
    public void Cleanup() => _cache?.Dispose();

    [Benchmark]
    public float Multiply()
    {
        Autograd.Backends.Cpu.Gemm.Multiply<float>(Case.TransA, Case.TransB, Case.M, Case.N, Case.K, _a, _b, _c, Case.Accumulate, _cache);
        return _c[0];
    }

    private static float[] Fill(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private sealed class GflopsConfig : ManualConfig
    {
        public GflopsConfig()
        {
            AddColumn(new GflopsColumn(), StatisticColumn.Min);
            // Case labels are longer than the default 20-character parameter column.
            SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(40);
        }
    }

    /// <summary>2mnk / median time, in GFLOP/s.</summary>
    private sealed class GflopsColumn : IColumn
    {
        public string Id => "GFLOPs";
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "2·m·n·k / median time, in 10^9 floating-point operations per second";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null || benchmarkCase.Parameters["Case"] is not GemmCase c) return "-";
            return (c.Flops / stats.Median).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
