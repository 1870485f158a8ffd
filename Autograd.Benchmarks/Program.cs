using Autograd.Benchmarks.Infrastructure;
using BenchmarkDotNet.Running;

namespace Autograd.Benchmarks;

/// <summary>
/// Entry point. <c>--smoke</c>: load check; <c>--ratios [options]</c>: short run and ours/peer table;
/// anything else goes to BenchmarkSwitcher with the full-suite configuration (e.g. <c>--filter *CharLm*</c>).
/// See README.md in this folder.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["--smoke", ..]) return SmokeMode.Run();
        if (args is ["--ratios", .. var rest]) return RatiosMode.Run(rest);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, SuiteConfig.Full());
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }
}
