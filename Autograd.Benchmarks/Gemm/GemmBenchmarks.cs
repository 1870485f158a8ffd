using Autograd.Backends.Cpu;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Autograd.Benchmarks.Gemm;

/// <summary>One GEMM shape with its transpose variant and thread count; ToString is the BenchmarkDotNet label.</summary>
public sealed record GemmCase(string Name, bool TransA, bool TransB, int M, int N, int K, bool Accumulate, int Threads)
{
    public double Flops => 2.0 * M * N * K;
    public override string ToString() =>
        $"{Name} {(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')} {M}x{N}x{K} t{Threads}";
}

/// <summary>
/// Gemm.Multiply (float) on the standard workload shapes: the MATMUL micro-workload, the M-size LSTM gate GEMM
/// (B·T = 2048 rows, F + H = 321, 4H = 1024) and its two backward GEMMs, and per-step S-size shapes.
/// Shapes are m×n×k of C (m×n) += op(A) (m×k) · op(B) (k×n). GFLOP/s = 2mnk / median.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    public static IEnumerable<GemmCase> Cases()
    {
        var large = new (string, bool, bool, int, int, int, bool)[]
        {
            ("matmul-fwd", false, false, 256, 1024, 512, false),
            ("lstm-M-fwd", false, false, 2048, 1024, 321, false),
            ("lstm-M-dX", false, true, 2048, 321, 1024, true),
            ("lstm-M-dW", true, false, 321, 1024, 2048, true),
        };
        foreach (var (name, ta, tb, m, n, k, acc) in large)
            foreach (int threads in new[] { 1, 2 })
                yield return new GemmCase(name, ta, tb, m, n, k, acc, threads);

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
    }

    [Benchmark]
    public float Multiply()
    {
        Autograd.Backends.Cpu.Gemm.Multiply<float>(Case.TransA, Case.TransB, Case.M, Case.N, Case.K, _a, _b, _c, Case.Accumulate);
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
