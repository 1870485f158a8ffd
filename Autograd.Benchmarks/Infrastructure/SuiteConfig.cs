using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Autograd.Benchmarks.Infrastructure;

/// <summary>The suite's BenchmarkDotNet configurations.</summary>
public static class SuiteConfig
{
    /// <summary>
    /// The full suite: out-of-process (each benchmark in a fresh process), ≥ 3 warm-up and 20 measured
    /// iterations (benchmarks.md asks for the median of ≥ 20 steps after ≥ 3 warm-ups), median and chars/s.
    /// </summary>
    public static IConfig Full() => ManualConfig.Create(DefaultConfig.Instance)
        .AddJob(WithTorchSharpPatch(Job.Default.WithWarmupCount(3).WithIterationCount(20).WithId("Full")))
        .AddColumn(StatisticColumn.Median, new CharsPerSecondColumn());

    /// <summary>The full suite's columns, for a job chosen on the command line.</summary>
    public static IConfig WithoutJob() => ManualConfig.Create(DefaultConfig.Instance)
        .AddColumn(StatisticColumn.Median, new CharsPerSecondColumn());

    /// <summary>
    /// The quick ratio run: in-process (no generated project to build, which takes minutes on a busy
    /// 2-core machine), few iterations of about 250 ms each. For ratios, not for publication.
    /// </summary>
    public static IConfig Short(int warmups, int iterations) => ManualConfig.Create(DefaultConfig.Instance)
        .AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(warmups)
            .WithIterationCount(iterations)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithId("Short"))
        .AddColumn(StatisticColumn.Median, new CharsPerSecondColumn());

    /// <summary>
    /// BenchmarkDotNet builds each out-of-process job from a generated project that copies its own
    /// libLibTorchSharp.so from the NuGet cache and imports no Directory.Build.* files, so the patch is
    /// injected through the standard CustomAfterMicrosoftCommonTargets hook (the targets file is
    /// copied next to this assembly by the build).
    /// </summary>
    public static Job WithTorchSharpPatch(Job job)
    {
        string targets = Path.Combine(AppContext.BaseDirectory, "TorchSharpGlibcxxPatch.targets");
        if (!File.Exists(targets))
            throw new InvalidOperationException($"SuiteConfig: {targets} is missing; rebuild Autograd.Benchmarks.");
        return job.WithArguments([new MsBuildArgument($"/p:CustomAfterMicrosoftCommonTargets=\"{targets}\"")]);
    }
}
