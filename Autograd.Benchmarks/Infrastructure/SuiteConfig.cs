using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Autograd.Benchmarks.Infrastructure;

/// <summary>The suite's BenchmarkDotNet configurations.</summary>
public static class SuiteConfig
{
    /// <summary>
    /// The full suite: ≥ 3 warm-up and 20 measured iterations (benchmarks.md asks for the median of ≥ 20
    /// steps after ≥ 3 warm-ups), median and chars/s columns.
    /// </summary>
    public static IConfig Full() => ManualConfig.Create(DefaultConfig.Instance)
        .AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(20).WithId("Full"))
        .AddColumn(StatisticColumn.Median, new CharsPerSecondColumn());

    /// <summary>
    /// The quick ratio run: in-process (no generated project to build), few iterations of about
    /// 250 ms each. Good for ratios on a quiet machine, not for publication.
    /// </summary>
    public static IConfig Short(int warmups, int iterations) => ManualConfig.Create(DefaultConfig.Instance)
        .AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(warmups)
            .WithIterationCount(iterations)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithId("Short"))
        .AddColumn(StatisticColumn.Median, new CharsPerSecondColumn());
}
